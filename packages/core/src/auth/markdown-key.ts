/**
 * Key extraction from the OpenClaw workspace's Markdown notes, compatible with the
 * seed skill (openclaw.md §5.1): three case-insensitive patterns tried in order, a
 * `FAL_KEY` label, then `fal.ai … key`, then `fal … api … key`, each followed by `:`
 * or whitespace and an optionally quoted token of `[A-Za-z0-9_:-]`. We also tolerate
 * Markdown emphasis/backticks and `=` around the separator, which the seed did not.
 */
const SEPARATOR = String.raw`[*_\x60]*\s*[:=\s]\s*[*_\x60]*\s*["'\x60]?`;
const TOKEN = '([A-Za-z0-9_:-]+)';
const PATTERNS: readonly RegExp[] = [
  new RegExp(String.raw`\bFAL_KEY(?![A-Za-z0-9_])${SEPARATOR}${TOKEN}`, 'i'),
  new RegExp(String.raw`fal\.ai[^\n]*?key${SEPARATOR}${TOKEN}`, 'i'),
  new RegExp(String.raw`fal[^\n]*?api[^\n]*?key${SEPARATOR}${TOKEN}`, 'i'),
];

/** The first key-looking token in `text`, by the seed's pattern order. */
export function findKeyInMarkdown(text: string): string | undefined {
  for (const pattern of PATTERNS) {
    const match = pattern.exec(text);
    const token = match?.[1];
    if (token && token.length >= 3) return token;
  }
  return undefined;
}

/**
 * The body of the `## Tools` section of AGENTS.md (up to the next level-1/2
 * heading), where OpenClaw 2026.9 moved TOOLS.md's content.
 */
export function toolsSection(markdown: string): string | undefined {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((line) => /^##\s+tools\b/i.test(line.trim()));
  if (start < 0) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^#{1,2}\s/.test(line));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}
