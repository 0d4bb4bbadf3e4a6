/**
 * Text from records is hostile: a prompt can hold `<script>`, `</script>`, quotes or U+2028.
 * Everything the page shows goes through one of these before it reaches HTML.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/**
 * JSON that is safe as the body of a `<script type="application/json">` element: `<`, `>` and
 * `&` become `\u003c`, `\u003e`, `\u0026` (so no `</script>` or `<!--` can end or confuse the
 * element), and U+2028/U+2029 are escaped (older JavaScript parsers took them for line
 * breaks). `JSON.parse` of the element's text gives back exactly the value.
 */
export function jsonForScript(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value is not serialisable as JSON');
  return text.replace(/[<>&\u2028\u2029]/g, (char) => {
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * Quotes one shell word for a copy-and-paste command (POSIX shells): plain ids stay as they
 * are, anything else is single-quoted with embedded quotes closed and reopened.
 */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
