/**
 * falai's provenance as XMP (ISO 16684-1), the metadata JPEG, WebP and MP4 carry: one
 * `rdf:Description` in falai's namespace with the provenance JSON as `falai:provenance`, plus
 * the prompt as `dc:description` and `xmp:CreatorTool`, which photo tools show. Only this
 * module reads and writes the XML, with plain string operations: falai writes a fixed shape,
 * and reads back both the element form and the attribute form tools rewrite it to.
 */

/** falai's XMP namespace. */
export const FALAI_XMP_NAMESPACE = 'urn:falai:ns:provenance:1.0/';

const XMP_HEADER = '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>';
const XMP_TRAILER = '<?xpacket end="w"?>';
const OUR_MARK = 'falai:provenance';

/** Escapes text for XML element content (falai writes no attribute values of its own). */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\uFFFE\uFFFF]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

/** Undoes XML escaping (the five named entities and numeric references). */
export function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower === 'amp') return '&';
    if (lower === 'lt') return '<';
    if (lower === 'gt') return '>';
    if (lower === 'quot') return '"';
    if (lower === 'apos') return "'";
    const code = lower.startsWith('#x')
      ? Number.parseInt(lower.slice(2), 16)
      : Number.parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code >= 0 && code <= 0x10ffff
      ? String.fromCodePoint(code)
      : whole;
  });
}

/** What the XMP says besides the JSON: shown by photo tools. */
export interface XmpExtras {
  /** The prompt, as `dc:description`. */
  readonly description?: string;
  /** e.g. `falai 0.3.0 (fal-ai/flux/dev)`, as `xmp:CreatorTool`. */
  readonly creatorTool?: string;
}

/** falai's `rdf:Description` element. */
function description(json: string, extras: XmpExtras): string {
  const parts = [
    `  <rdf:Description rdf:about="" xmlns:falai="${FALAI_XMP_NAMESPACE}"` +
      ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">',
    `   <${OUR_MARK}>${escapeXml(json)}</${OUR_MARK}>`,
  ];
  if (extras.creatorTool) {
    parts.push(`   <xmp:CreatorTool>${escapeXml(extras.creatorTool)}</xmp:CreatorTool>`);
  }
  if (extras.description) {
    parts.push(
      '   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">' +
        `${escapeXml(extras.description)}</rdf:li></rdf:Alt></dc:description>`,
    );
  }
  parts.push('  </rdf:Description>');
  return parts.join('\n');
}

/** A whole XMP packet holding falai's description. */
export function buildXmpPacket(json: string, extras: XmpExtras = {}): string {
  return [
    XMP_HEADER,
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    description(json, extras),
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    XMP_TRAILER,
  ].join('\n');
}

/** The `rdf:Description` elements of a packet that are falai's, with their positions. */
function ourDescriptions(xmp: string): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  const open = /<rdf:Description\b[^>]*>/g;
  for (let match = open.exec(xmp); match; match = open.exec(xmp)) {
    const close = xmp.indexOf('</rdf:Description>', match.index);
    if (close < 0) break;
    const end = close + '</rdf:Description>'.length;
    if (xmp.slice(match.index, end).includes(OUR_MARK)) {
      found.push({ start: match.index, end });
    }
    open.lastIndex = end;
  }
  return found;
}

/**
 * Puts falai's description into an existing packet (replacing an earlier falai description,
 * keeping everything else other tools wrote), or makes a new packet when there is none or it
 * cannot be understood.
 */
export function mergeXmpPacket(
  existing: string | undefined,
  json: string,
  extras: XmpExtras = {},
): string {
  if (!existing?.includes('</rdf:RDF>')) return buildXmpPacket(json, extras);
  let xmp = existing;
  for (const found of ourDescriptions(xmp).reverse()) {
    xmp = xmp.slice(0, found.start) + xmp.slice(found.end);
  }
  // A self-closing falai description (attribute form, as some tools rewrite it) goes too.
  xmp = xmp.replace(/<rdf:Description\b[^>]*\bfalai:provenance="[^"]*"[^>]*\/>/g, '');
  const at = xmp.lastIndexOf('</rdf:RDF>');
  return `${xmp.slice(0, at)}${description(json, extras)}\n ${xmp.slice(at)}`;
}

/** True when a packet holds falai's provenance. */
export function xmpHasProvenance(xmp: string): boolean {
  return xmp.includes(OUR_MARK);
}

/**
 * The provenance JSON in an XMP packet: the `falai:provenance` element's text, or the
 * attribute of that name; the last one when there are several. Undefined when absent.
 */
export function provenanceJsonFromXmp(xmp: string): string | undefined {
  let found: string | undefined;
  const element = /<falai:provenance>([\s\S]*?)<\/falai:provenance>/g;
  for (let match = element.exec(xmp); match; match = element.exec(xmp)) found = match[1];
  if (found === undefined) {
    const attribute = /\bfalai:provenance="([^"]*)"/g;
    for (let match = attribute.exec(xmp); match; match = attribute.exec(xmp)) found = match[1];
  }
  return found === undefined ? undefined : unescapeXml(found);
}
