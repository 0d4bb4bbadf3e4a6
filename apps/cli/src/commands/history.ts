import type { HistoryOutput, RequestStatus } from '@falai/core';
import { FalaiError, REQUEST_STATUSES } from '@falai/core';
import type { HistoryEntry, HistoryQuery } from '@falai/core/internal';
import { DEFAULT_HISTORY_LIMIT, historyEntryOf, searchHistory } from '@falai/core/internal';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { parseDuration } from '../flags.js';
import { age } from '../output.js';

/** What you made: finished and pending requests, newest first, searchable by prompt. */
export default class History extends BaseCommand<typeof History> {
  static override summary =
    'Find what you made: requests with prompt, model, when, cost and output files, newest first.';
  static override description =
    'Lists finished and pending requests from the store, newest first, with their prompt, model, status, age, cost, seed and saved files. TEXT finds prompts containing every word given as the start of a word, ignoring case ("red fo" finds "A red fox"). Finished requests stay for historyRetentionDays (30 days by default; config set historyRetentionDays or FALAI_HISTORY_RETENTION_DAYS), after which falai prune removes them. The SQLite and Redis stores answer from an index; the file store reads every record (slow past about 10,000).';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> "lighthouse dusk" --since 7d',
    '<%= config.bin %> <%= command.id %> --model fal-ai/nano-banana-pro --status completed --json',
  ];
  static override args = {
    text: Args.string({
      required: false,
      description: 'Words to find in prompts (quote several words).',
    }),
  };
  static override flags = {
    model: Flags.string({ char: 'm', description: 'Only requests for this model (endpoint id).' }),
    since: Flags.string({
      description: 'Only requests submitted in the last period (7d, 12h, 30m) or since a date.',
    }),
    status: Flags.string({
      multiple: true,
      options: [...REQUEST_STATUSES],
      description: 'Only requests with this status (repeatable).',
    }),
    limit: Flags.integer({
      min: 1,
      default: DEFAULT_HISTORY_LIMIT,
      description: 'At most this many (the newest).',
    }),
  };

  async run(): Promise<HistoryOutput> {
    const since = this.flags.since === undefined ? undefined : sinceInstant(this.flags.since);
    const limit = this.flags.limit;
    const query: HistoryQuery = {
      ...(this.args.text ? { text: this.args.text } : {}),
      ...(this.flags.model ? { endpointId: this.flags.model } : {}),
      ...(since ? { since } : {}),
      ...(this.flags.status?.length ? { status: this.flags.status as RequestStatus[] } : {}),
      // One more than shown, to know whether there are more.
      limit: limit + 1,
    };
    const store = await this.store();
    const records = await searchHistory(store, query);
    const truncated = records.length > limit;
    const requests = records.slice(0, limit).map(historyEntryOf);
    if (!this.jsonEnabled()) {
      this.log(requests.length === 0 ? 'No matching requests.' : requests.map(block).join('\n\n'));
      if (truncated) {
        this.note(`Showing the newest ${limit}; --limit shows more, TEXT/--since narrow it.`);
      }
    }
    this.note(`store: ${store.location}`);
    return { requests, count: requests.length, truncated, store: store.location };
  }
}

/**
 * `--since`: a period back from now (`7d`, `12h`, `30m`) or a date (`2026-03-01`, any ISO
 * time). A bare number is refused: seven what?
 */
function sinceInstant(text: string): string {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    throw new FalaiError(
      'USAGE',
      `--since "${trimmed}" has no unit; say what it means, e.g. ${trimmed}d (days), ${trimmed}h (hours), or give a date such as 2026-03-01.`,
    );
  }
  if (/^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)$/i.test(trimmed)) {
    return new Date(Date.now() - parseDuration(trimmed)).toISOString();
  }
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) {
    throw new FalaiError(
      'USAGE',
      `--since "${trimmed}" is neither a period (7d, 12h, 30m) nor a date (2026-03-01).`,
    );
  }
  return new Date(at).toISOString();
}

/** One request as a few lines: when, status, model, cost, id; the prompt; the files. */
function block(entry: HistoryEntry): string {
  const cost = entry.cost ? `  ${entry.cost.amount} ${entry.cost.currency}` : '';
  const lines = [
    `${age(entry.submittedAt)}  ${entry.status}  ${entry.endpointId}${cost}  ${entry.requestId}`,
  ];
  if (entry.prompt !== undefined) lines.push(`  "${oneLine(entry.prompt, 200)}"`);
  if (entry.seed !== undefined) lines.push(`  seed ${entry.seed}`);
  for (const parent of entry.parents ?? []) lines.push(`  from ${parent.requestId}`);
  for (const path of entry.outputs) lines.push(`  → ${path}`);
  if (entry.error) lines.push(`  error: ${oneLine(entry.error.message, 200)}`);
  return lines.join('\n');
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
