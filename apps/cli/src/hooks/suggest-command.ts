import { type Hook, toConfiguredId } from '@oclif/core';

/**
 * "Did you mean …?" for scripts and agents: `@oclif/plugin-not-found` only suggests on an
 * interactive terminal, so without one this hook names the closest command on stderr
 * (the plugin then ends with exit status 127).
 */
const hook: Hook<'command_not_found'> = async (options) => {
  if (process.stdin.isTTY) return;
  const ids = options.config.commands
    .filter((command) => !command.hidden)
    .map((command) => command.id);
  const suggestion = closest(options.id, ids);
  if (suggestion) {
    process.stderr.write(` ›   Did you mean ${toConfiguredId(suggestion, options.config)}?\n`);
  }
};

export default hook;

/** The id with the smallest edit distance, if it is plausibly a typo. */
export function closest(input: string, ids: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const id of ids) {
    const distance = editDistance(input, id);
    if (distance < bestDistance) {
      best = id;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3))
    ? best
    : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
