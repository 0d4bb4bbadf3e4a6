import { readFile, writeFile } from 'node:fs/promises';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { usdText } from '../../cost.js';

/** `falai batch plan`: validate, price and hash a file of rows before anything is paid for. */
export default class BatchPlan extends BaseCommand<typeof BatchPlan> {
  static override summary =
    'Plan a batch: validate every row, estimate the cost, write a hashed plan.';
  static override description =
    "Each row of a JSONL or CSV file is an input, or fills {{column}} placeholders in --template (values typed by the model's fields). Every row is validated; each issue names its row and field. The whole batch is priced from fal's unit prices (the estimate every submit makes; cached), or the plan says why it cannot be. The plan (JSON) carries a sha256 of the endpoint and rows, so `falai batch run` runs exactly what was reviewed. An `id` column names rows in output names ({row.id}).";
  static override examples = [
    '<%= config.bin %> <%= command.id %> rows.csv --model fal-ai/nano-banana-pro --template input.json',
    '<%= config.bin %> <%= command.id %> rows.jsonl --model fal-ai/nano-banana-pro --json',
  ];
  static override args = {
    rows: Args.string({ required: true, description: 'A .jsonl or .csv file of rows.' }),
  };
  static override flags = {
    model: Flags.string({ char: 'm', required: true, description: 'The endpoint id.' }),
    template: Flags.string({ description: 'An input JSON file with {{column}} placeholders.' }),
    out: Flags.string({
      char: 'o',
      description: 'Where to write the plan (default <rows>.plan.json).',
    }),
  };

  async run(): Promise<Record<string, unknown>> {
    const { costEstimatorFor, parseBatchRows, planBatch, rowFormatOf } = await import(
      '@falai/core'
    );
    const path = this.args.rows;
    const rows = await parseBatchRows(await readFile(path, 'utf8'), rowFormatOf(path));
    const template = this.flags.template
      ? (JSON.parse(await readFile(this.flags.template, 'utf8')) as Record<string, unknown>)
      : undefined;
    const settings = await this.settings();
    // The estimator every submit uses: fal's unit prices (cached), the key read only to ask.
    const estimator = costEstimatorFor(settings, {
      cacheDir: this.config.cacheDir,
      credentials: () => this.key(),
      userAgent: `${this.config.name}/${this.config.version}`,
    });
    const plan = await planBatch({
      endpointId: this.flags.model,
      rows,
      registry: await this.registry(),
      estimator,
      ...(template ? { template } : {}),
      source: path,
      cwd: process.cwd(),
    });
    const out = this.flags.out ?? `${path.replace(/\.(jsonl|csv|json)$/i, '')}.plan.json`;
    await writeFile(out, `${JSON.stringify(plan)}\n`);
    for (const issue of plan.issues.slice(0, 50)) {
      this.log(`row ${issue.row}${issue.field ? ` ${issue.field}` : ''}: ${issue.message}`);
    }
    if (plan.issues.length > 50) this.log(`… and ${plan.issues.length - 50} more issues`);
    const cost =
      plan.cost.usd === null
        ? `unknown (${plan.cost.reason ?? 'no estimate'})`
        : `${usdText(plan.cost.usd)}${plan.cost.basis ? ` (${plan.cost.basis})` : ''}`;
    this.log(
      `${plan.rows.length} rows, ${plan.issues.length} issues, cost ${cost}, hash ${plan.hash.slice(0, 12)}; plan written to ${out}`,
    );
    if (plan.issues.length > 0) process.exitCode = 4;
    return {
      plan: out,
      hash: plan.hash,
      endpointId: plan.endpointId,
      rows: plan.rows.length,
      issues: plan.issues,
      cost: plan.cost,
    };
  }
}
