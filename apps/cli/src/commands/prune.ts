import type { PruneOutput } from '@falai/core';
import { FalaiError } from '@falai/core';
import { pruneRequests } from '@falai/core/internal';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { parseDuration } from '../flags.js';

/** The seed's "manual cleanup": drop finished records, and stuck ones on request. */
export default class Prune extends BaseCommand<typeof Prune> {
  static override summary = 'Remove finished (and optionally stuck) requests from the store.';
  static override description =
    'Removes completed, failed and cancelled records older than --older-than (default: the history retention, historyRetentionDays, 30 days, 0 keeping them all; --older-than 0s removes every finished record), except completed ones whose outputs were never downloaded (--include-undownloaded removes those too). Newer finished records stay for falai history. With --stuck <age>, also removes queued or running records submitted longer ago than that — the seed\'s "request stuck → manual cleanup". --dry-run only shows what would go.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --older-than 7d --dry-run',
    '<%= config.bin %> <%= command.id %> --stuck 2h',
  ];
  static override flags = {
    'older-than': ageFlag(
      'Only finished records submitted longer ago than this (e.g. 12h, 7d; default historyRetentionDays, 30d).',
    ),
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
    const dryRun = this.flags['dry-run'];
    // Finished records are history: by default only those past the retention go (a
    // retention of 0 keeps them all: "older than the epoch" matches none).
    const retentionDays = (await this.settings()).historyRetentionDays;
    const olderThanMs =
      this.flags['older-than'] ?? (retentionDays > 0 ? retentionDays * 86_400_000 : Date.now());
    const { removed, kept } = await pruneRequests(store, {
      olderThanMs,
      stuckMs: this.flags.stuck,
      includeUndownloaded: this.flags['include-undownloaded'],
      dryRun,
    });
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
