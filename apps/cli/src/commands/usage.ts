import type { UsageOutput } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { platformClient, sinceInstant, usdText } from '../cost.js';
import { table } from '../output.js';

/** What the store says was spent: actual costs, estimates kept apart, today's budgets. */
export default class Usage extends BaseCommand<typeof Usage> {
  static override summary = 'Sum what your requests cost, by model or by day.';
  static override description =
    "Reads the store: each finished request's actual cost (fal's billable units × the unit price, recorded when its result arrived), and, kept apart, the estimates of requests still running or whose actual cost is unknown. Shows today's budgets (falai config set budget.daily 5) and what is left of them. --billing fills in unknown costs from fal's billing events (needs an ADMIN key).";
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --since 30d --by day',
    '<%= config.bin %> <%= command.id %> --since 2026-03-01 --json',
  ];
  static override flags = {
    since: Flags.string({
      description: 'Requests submitted in the last period (7d, 24h) or since a date.',
      default: '7d',
    }),
    by: Flags.custom<'model' | 'day'>({
      description: 'Group by model (endpoint) or by UTC day.',
      options: ['model', 'day'],
      default: 'model',
    })(),
    billing: Flags.boolean({
      description:
        "Fill in the cost of finished requests that have none from fal's billing events (an ADMIN key).",
      default: false,
    }),
  };

  async run(): Promise<UsageOutput> {
    const core = await import('@falai/core/internal');
    const since = await sinceInstant(this.flags.since);
    const [store, settings] = await Promise.all([this.store(), this.settings()]);
    let records = await store.list({ since });
    let billing: UsageOutput['billing'];
    if (this.flags.billing) {
      const platform = await platformClient({
        settings,
        key: () => this.key(),
        userAgent: `${this.config.name}/${this.config.version}`,
      });
      billing = await core.applyBillingEvents({ store, platform, records });
      if (billing.updated > 0) records = await store.list({ since });
    }
    const summary = core.summariseUsage(records, { since, by: this.flags.by });
    let keyId: string | undefined;
    if (core.hasKeyBudgets(settings.budget)) {
      keyId = await this.key().then(core.keyIdOf, () => undefined);
    }
    const caps = core.budgetCapsFor(settings.budget, {
      ...(settings.store ? { store: settings.store } : {}),
      ...(keyId ? { keyId } : {}),
      locations: settings.paths,
    });
    const budgets = await core.budgetStandings(store, caps);

    const money = (row: { spentUsd: number; estimatedUsd: number; pendingUsd: number }) => [
      usdText(row.spentUsd),
      row.estimatedUsd ? `~${usdText(row.estimatedUsd)}` : '',
      row.pendingUsd ? `~${usdText(row.pendingUsd)}` : '',
    ];
    if (summary.rows.length === 0) {
      this.log(
        `No requests since ${since.slice(0, 16).replace('T', ' ')} UTC in ${store.location}.`,
      );
    } else {
      this.log(
        table(
          [
            this.flags.by === 'day' ? 'DAY (UTC)' : 'MODEL',
            'REQUESTS',
            'SPENT',
            'ESTIMATED',
            'RUNNING',
          ],
          [
            ...summary.rows.map((row) => [row.key, String(row.requests), ...money(row)]),
            ['total', String(summary.total.requests), ...money(summary.total)],
          ],
        ),
      );
    }
    if (summary.total.estimatedUsd > 0) {
      this.note(
        'ESTIMATED: finished requests whose actual cost is unknown (e.g. finalised by a webhook), counted at their estimate; --billing asks fal (ADMIN key).',
      );
    }
    if (summary.total.unpriced > 0) {
      this.note(`${summary.total.unpriced} request(s) had no price and no estimate: not counted.`);
    }
    for (const budget of budgets) {
      this.log(
        `${budget.setting}: ${usdText(budget.spentUsd)} spent + ${usdText(budget.reservedUsd)} held of ${usdText(budget.capUsd)} today; ${usdText(budget.remainingUsd)} left`,
      );
    }
    if (billing)
      this.note(
        `fal's billing events filled in ${billing.updated} of ${billing.checked} unknown cost(s).`,
      );
    return {
      since: summary.since,
      by: summary.by,
      currency: 'USD',
      rows: summary.rows.map((row) => ({ ...row })),
      total: { ...summary.total },
      budgets: budgets.map((budget) => ({ ...budget })),
      ...(billing ? { billing: { ...billing } } : {}),
      store: store.location,
    };
  }
}
