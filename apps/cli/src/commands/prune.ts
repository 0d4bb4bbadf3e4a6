import type { PendingRecord, PruneOutput } from '@falai/core';
import { ACTIVE_STATUSES, FalaiError, TERMINAL_STATUSES } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { findOutputFiles } from '../download.js';
import { parseDuration } from '../flags.js';

/** The seed's "manual cleanup": drop finished records, and stuck ones on request. */
export default class Prune extends BaseCommand<typeof Prune> {
  static override summary = 'Remove finished (and optionally stuck) requests from the store.';
  static override description =
    'Removes completed, failed and cancelled records (those older than --older-than, if given), except completed ones whose outputs were never downloaded (--include-undownloaded removes those too). With --stuck <age>, also removes queued or running records submitted longer ago than that — the seed\'s "request stuck → manual cleanup". --dry-run only shows what would go.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --older-than 7d --dry-run',
    '<%= config.bin %> <%= command.id %> --stuck 2h',
  ];
  static override flags = {
    'older-than': ageFlag('Only finished records submitted longer ago than this (e.g. 12h, 7d).'),
    stuck: ageFlag('Also remove queued/running records submitted longer ago than this (e.g. 2h).'),
    'include-undownloaded': Flags.boolean({
      description: 'Also remove completed records whose outputs were never downloaded.',
      default: false,
    }),
    'dry-run': Flags.boolean({
      description: 'Show what would be removed; change nothing.',
      default: false,
    }),
  };

  async run(): Promise<PruneOutput> {
    const store = await this.store();
    const now = Date.now();
    const olderThan = this.flags['older-than'] ?? 0;
    const finished = await store.list({
      status: TERMINAL_STATUSES,
      ...(olderThan > 0 ? { before: new Date(now - olderThan).toISOString() } : {}),
    });
    const kept: NonNullable<PruneOutput['kept']> = [];
    const victims: PendingRecord[] = [];
    for (const record of finished) {
      const reason = this.flags['include-undownloaded'] ? undefined : notDownloaded(record);
      if (reason) kept.push({ requestId: record.requestId, reason });
      else victims.push(record);
    }
    if (this.flags.stuck !== undefined) {
      victims.push(
        ...(await store.list({
          status: ACTIVE_STATUSES,
          before: new Date(now - this.flags.stuck).toISOString(),
        })),
      );
    }
    const dryRun = this.flags['dry-run'];
    const removed: PruneOutput['removed'] = [];
    for (const record of victims) {
      if (dryRun || (await store.remove(record.requestId))) {
        removed.push({ requestId: record.requestId, status: record.status });
      }
    }
    for (const item of removed)
      this.log(`${dryRun ? 'would remove' : 'removed'}  ${item.requestId}  ${item.status}`);
    this.log(
      `${removed.length} request${removed.length === 1 ? '' : 's'} ${dryRun ? 'would be ' : ''}removed.`,
    );
    if (kept.length > 0) {
      this.note(
        `Kept ${kept.length} completed request${kept.length === 1 ? '' : 's'} whose outputs were never downloaded (falai download <id> saves them; --include-undownloaded removes them anyway): ${kept.map((item) => item.requestId).join(', ')}`,
      );
    }
    return { removed, count: removed.length, dryRun, ...(kept.length > 0 ? { kept } : {}) };
  }
}

/** Why a finished record is worth keeping: a completed request whose files were never saved. */
function notDownloaded(record: PendingRecord): string | undefined {
  if (record.status !== 'completed' || (record.outputs?.length ?? 0) > 0) return undefined;
  if (record.result === undefined) return 'result never fetched';
  return findOutputFiles(record.result).length > 0 ? 'outputs never downloaded' : undefined;
}

/**
 * An age with its unit (`12h`, `7d`, `30m`). A bare number is refused: `--older-than 7`
 * reads as seven days to a person and meant seven seconds to a parser, which forgot every
 * record.
 */
function ageFlag(description: string) {
  return Flags.custom<number>({
    description,
    parse: async (input) => {
      if (/^\s*\d+(?:\.\d+)?\s*$/.test(input)) {
        throw new FalaiError(
          'USAGE',
          `"${input}" has no unit; say what it means, e.g. ${input.trim()}d (days), ${input.trim()}h (hours) or ${input.trim()}m (minutes).`,
        );
      }
      return parseDuration(input);
    },
  })();
}
