import type { RecoverOutput } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { platformClient, sinceInstant } from '../cost.js';
import { table } from '../output.js';

/** Finds requests fal has that the store lacks, and adopts them. */
export default class Recover extends BaseCommand<typeof Recover> {
  static override summary = 'Adopt requests fal has that the store lacks (never lose a paid job).';
  static override description =
    "Reads fal's request history and records every request the store does not know: a submit whose process died before it recorded the answer, one made on another machine or with another tool. Each is recorded as pending (tagged source: recovered), so wait, poll and download work on it. A submit whose answer never arrived (falai notes every submit before sending it) is matched by endpoint, time and a hash of its input; one fal never received releases what its budget held. Without --endpoint, every request of the account's API keys is looked at.";
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --since 2h --endpoint fal-ai/nano-banana-pro',
    '<%= config.bin %> <%= command.id %> --dry-run --json',
  ];
  static override flags = {
    since: Flags.string({
      description: 'Requests fal received in the last period (24h, 7d) or since a date.',
      default: '24h',
    }),
    endpoint: Flags.string({
      description: 'Only this endpoint (repeatable).',
      multiple: true,
    }),
    'dry-run': Flags.boolean({ description: 'Show what would be adopted; change nothing.' }),
  };

  async run(): Promise<RecoverOutput> {
    const core = await import('@falai/core/internal');
    const since = await sinceInstant(this.flags.since);
    const [store, settings] = await Promise.all([this.store(), this.settings()]);
    const key = () => this.key();
    const userAgent = `${this.config.name}/${this.config.version}`;
    const platform = await platformClient({ settings, key, userAgent });
    const intents = core.intentJournalFor(store, settings.paths);
    const summary = await core.recoverRequests({
      store,
      platform,
      since: new Date(since),
      ...(this.flags.endpoint?.length ? { endpointIds: this.flags.endpoint } : {}),
      ...(intents ? { intents } : {}),
      estimator: core.costEstimatorFor(settings, {
        cacheDir: this.config.cacheDir,
        credentials: key,
        userAgent,
      }),
      dryRun: this.flags['dry-run'] === true,
    });
    const verb = summary.dryRun ? 'Would adopt' : 'Adopted';
    if (summary.adopted.length > 0) {
      this.log(
        table(
          ['REQUEST', 'ENDPOINT', 'AT FAL', 'RECEIVED', 'FROM'],
          summary.adopted.map((item) => [
            item.requestId,
            item.endpointId,
            item.falState,
            item.receivedAt?.slice(0, 19).replace('T', ' ') ?? '',
            item.matchedIntent ? 'a lost submit' : 'fal history',
          ]),
        ),
      );
    }
    this.note(
      `${verb} ${summary.adopted.length} request(s); ${summary.known} already recorded; ${summary.scanned} of fal's requests since ${summary.since.slice(0, 16).replace('T', ' ')} UTC looked at${summary.truncated ? ' (stopped early: narrow --since or --endpoint)' : ''}.`,
    );
    for (const intent of summary.intents) {
      const what =
        intent.outcome === 'found'
          ? `found at fal as ${intent.requestId}`
          : intent.outcome === 'not-sent'
            ? 'fal never received it (its budget hold is released)'
            : "not in fal's history yet: run recover again later";
      this.note(`A submit to ${intent.endpointId} at ${intent.at} whose answer was lost: ${what}.`);
    }
    if (summary.adopted.length > 0 && !summary.dryRun) {
      this.note('Next: falai poll --download (all of them), or falai wait <id> --download.');
    }
    return {
      since: summary.since,
      endpoints: summary.endpoints === 'all' ? 'all' : [...summary.endpoints],
      adopted: summary.adopted.map((item) => ({
        requestId: item.requestId,
        endpointId: item.endpointId,
        ...(item.receivedAt ? { receivedAt: item.receivedAt } : {}),
        falState: item.falState,
        matchedIntent: item.matchedIntent,
      })),
      known: summary.known,
      scanned: summary.scanned,
      truncated: summary.truncated,
      intents: summary.intents.map((intent) => ({ ...intent })),
      dryRun: summary.dryRun,
      store: store.location,
    };
  }
}
