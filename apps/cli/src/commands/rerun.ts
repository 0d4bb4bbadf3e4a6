import type { SubmitOutput } from '@falai/core';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { maxCostFlag, setFlag } from '../flags.js';
import { sanitise } from '../output.js';
import { submitOutput } from '../submit-request.js';

/** Submit a recorded input again, with changes; the new request names the original as parent. */
export default class Rerun extends BaseCommand<typeof Rerun> {
  static override summary = 'Submit an earlier request again, with changes.';
  static override description =
    'Takes the input recorded for a request (from the store, or from the provenance falai embedded in a saved file), applies --set changes, and submits it (to --model if given). Local files are read again from their paths; the seed is kept exactly. The new request records the original as its parent (history, gallery). Follow it with falai wait <id> --download. In any file field, @last or @<request-id>[#n] refers to an earlier output.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 6f1c2a3b --set prompt="the same, at night"',
    '<%= config.bin %> <%= command.id %> ./falai-output/6f1c2a3b-0.png --model fal-ai/flux/dev',
  ];
  static override args = {
    source: Args.string({
      description: 'A request id (a unique prefix is enough) or a file falai saved.',
      required: true,
    }),
  };
  static override flags = {
    set: setFlag(),
    model: Flags.string({ description: 'Send the input to another model.' }),
    'max-cost': maxCostFlag(),
  };

  async run(): Promise<SubmitOutput> {
    const [{ rerun }, registry, client, store] = await Promise.all([
      import('@falai/core'),
      this.registry(),
      this.client(),
      this.store(),
    ]);
    // The cost step of every submit: estimate, --max-cost, the config's budgets, recovery.
    const cost = await this.costStep(this.flags['max-cost']);
    const done = await rerun({
      source: this.args.source,
      sets: this.flags.set ?? [],
      ...(this.flags.model ? { model: this.flags.model } : {}),
      registry,
      client,
      store,
      ...cost,
      cwd: process.cwd(),
      onNote: (line) => this.note(sanitise(line, this.redactor)),
      signals: {
        replay: false,
        onInterrupt: (event) => process.stderr.write(`${sanitise(event.message, this.redactor)}\n`),
      },
    });
    const { record, submitted } = done;
    this.log(record.requestId);
    this.note(
      `Reran ${done.original.requestId} as ${record.requestId} on ${record.endpointId}. Next: falai wait ${record.requestId} --download`,
    );
    return submitOutput(
      { ...submitted, record, warnings: done.warnings, estimate: done.estimate },
      store.location,
    );
  }
}
