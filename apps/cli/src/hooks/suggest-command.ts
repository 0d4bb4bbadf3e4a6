import { type Hook, toConfiguredId } from '@oclif/core';

/**
 * An unknown command: say so, name the closest command ("Did you mean submit?") on stderr
 * and exit 127, the same on a terminal and off it (scripts and agents read stderr too).
 *
 * oclif joins the command words and every argument after them into one id
 * (`falai sumbit fal-ai/x '{}'` → `sumbit:fal-ai/x:{}`), so the typed command is matched
 * word for word against each command id (`config set` against the first two words), never
 * with its arguments attached. This hook replaces `@oclif/plugin-not-found`, which compared
 * the whole id and, on a terminal, offered to run whatever came closest.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const ids = [
    ...options.config.commands.filter((command) => !command.hidden).map((command) => command.id),
    ...options.config.topics.filter((topic) => !topic.hidden).map((topic) => topic.name),
  ];
  const words = options.id.split(':');
  const match = suggest(words, ids);
  const typed = words.slice(0, match?.words ?? 1).join(' ');
  this.warn(`${typed} is not a ${options.config.bin} command.`);
  if (match) {
    process.stderr.write(` ›   Did you mean ${toConfiguredId(match.id, options.config)}?\n`);
  }
  this.error(`Run ${options.config.bin} help for a list of available commands.`, { exit: 127 });
};

export default hook;

/**
 * The command (or topic) id closest to the words typed, comparing each id with as many
 * leading words as it has: the one matching the most words, then the nearest; undefined when
 * nothing is plausibly a typo.
 */
export function suggest(
  words: readonly string[],
  ids: readonly string[],
): { id: string; words: number } | undefined {
  let best: { id: string; words: number; distance: number } | undefined;
  for (const id of ids) {
    const count = id.split(':').length;
    if (count > words.length) continue;
    const typed = words.slice(0, count).join(':');
    const distance = editDistance(typed, id);
    if (distance > Math.max(2, Math.floor(typed.length / 3))) continue;
    // More words matched wins (`confg sett` → `config set`, not the topic `config`).
    if (!best || count > best.words || (count === best.words && distance < best.distance)) {
      best = { id, words: count, distance };
    }
  }
  return best ? { id: best.id, words: best.words } : undefined;
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
