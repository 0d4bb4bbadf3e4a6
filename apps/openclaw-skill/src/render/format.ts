import type { SkillField, SkillMediaLimits } from '../models.js';

/** Escapes text for one Markdown table cell (pipes and line breaks would break the row). */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim();
}

/** `209715200` → `200 MB`, the unit people read in limits. */
export function formatBytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  if (mb >= 1) return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  return `${Math.round(bytes / 1024)} KB`;
}

/** A short type label a model can act on: `image file`, `list of image files`, `integer`. */
export function typeLabel(field: SkillField): string {
  if (field.type === 'file') return `${field.media ?? 'any'} file`;
  if (field.type === 'array' && field.items) {
    const inner = typeLabel(field.items);
    return `list of ${inner === 'object' ? 'objects' : inner.endsWith('s') ? inner : `${inner}s`}`;
  }
  if (field.type === 'number') return 'number';
  return field.type;
}

/** What values are accepted: enum, range, lengths, item counts, formats. */
export function allowedLabel(field: SkillField): string {
  const parts: string[] = [];
  if (field.enum) parts.push(field.enum.map((value) => `\`${value}\``).join(' '));
  if (field.minimum !== undefined && field.maximum !== undefined)
    parts.push(`${field.minimum}–${field.maximum}`);
  else if (field.minimum !== undefined) parts.push(`≥ ${field.minimum}`);
  else if (field.maximum !== undefined) parts.push(`≤ ${field.maximum}`);
  if (field.maxLength !== undefined) parts.push(`≤ ${field.maxLength} chars`);
  if (field.minItems !== undefined && field.maxItems !== undefined)
    parts.push(`${field.minItems}–${field.maxItems} items`);
  else if (field.maxItems !== undefined) parts.push(`≤ ${field.maxItems} items`);
  else if (field.minItems !== undefined) parts.push(`≥ ${field.minItems} items`);
  const formats = field.formats ?? (field.type === 'array' ? field.items?.formats : undefined);
  if (formats?.length) parts.push(formats.map((format) => `.${format}`).join(' '));
  return parts.join('; ');
}

/** `.mp4/.mov, 3–15 s, 720–3840 px per side, ≤ 200 MB`. */
export function mediaLimitsLabel(limits: SkillMediaLimits): string {
  const parts = [limits.formats.map((format) => `.${format}`).join('/')];
  const { minDurationSeconds: minD, maxDurationSeconds: maxD } = limits;
  if (minD !== undefined && maxD !== undefined) parts.push(`${minD}–${maxD} s`);
  else if (maxD !== undefined) parts.push(`≤ ${maxD} s`);
  else if (minD !== undefined) parts.push(`≥ ${minD} s`);
  const { minDimension: minPx, maxDimension: maxPx } = limits;
  if (minPx !== undefined && maxPx !== undefined) parts.push(`${minPx}–${maxPx} px per side`);
  else if (maxPx !== undefined) parts.push(`≤ ${maxPx} px per side`);
  else if (minPx !== undefined) parts.push(`≥ ${minPx} px per side`);
  if (limits.maxBytes !== undefined) parts.push(`≤ ${formatBytes(limits.maxBytes)}`);
  return parts.join(', ');
}

/** Quotes a string for POSIX sh with single quotes (the only quoting with no escapes inside). */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
