import type { OutputFile, WaitOutput } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand, jsonText } from '../base-command.js';
import { findOutputFiles } from '../download.js';
import { forceFlag, outFlag, TARGET_USAGE, targetArgs, timeoutFlag } from '../flags.js';
import { describeOutputs } from '../output.js';
import { resolveTarget } from '../requests.js';
import { commandDeadline, saveOutputs, waitFor } from '../waiting.js';

/** Blocks until one request finishes: the resume point after `submit` or an interrupted `run`. */
export default class Wait extends BaseCommand<typeof Wait> {
  static override summary = 'Wait for a request to finish and print its result.';
  static override description =
    'Follows the request (status stream, falling back to polling) until it completes, records the outcome, and prints the result — or, with --download, the saved files. Exits non-zero if it failed or was cancelled. The endpoint may be left out when the store knows the request.';
  static override usage = TARGET_USAGE;
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001 --download --timeout 10m',
  ];
  static override args = targetArgs();
  static override flags = {
    timeout: timeoutFlag(),
    download: Flags.boolean({ char: 'd', description: 'Save the outputs when it completes.' }),
    out: outFlag(),
    force: forceFlag(),
    logs: Flags.boolean({ description: 'Print new log lines as they arrive.' }),
  };

  async run(): Promise<WaitOutput> {
    const started = Date.now();
    // --timeout covers the whole command: the wait and the download.
    const deadline = commandDeadline(this.flags.timeout);
    const store = await this.store();
    const target = await resolveTarget(store, this.args.first, this.args.second, 'wait');
    const client = await this.client();
    const outcome = await waitFor({
      client,
      store,
      endpointId: target.endpointId,
      requestId: target.requestId,
      recorded: target.record !== undefined,
      timeoutMs: this.flags.timeout,
      deadline,
      tty: this.interactive && !this.flags.quiet,
      logs: this.flags.logs && !this.jsonEnabled(),
    });
    let outputs: OutputFile[] | undefined;
    if (this.flags.download) {
      outputs = await saveOutputs({
        store,
        requestId: target.requestId,
        result: outcome.output,
        outDir: this.flags.out ?? (await this.settings()).outputDir,
        force: this.flags.force,
        recorded: target.record !== undefined,
        deadline,
      });
      for (const line of describeOutputs(outputs, [])) this.log(line);
    } else if (this.flags.quiet) {
      for (const ref of findOutputFiles(outcome.output)) this.log(ref.url);
    } else {
      this.log(jsonText(outcome.output));
    }
    return {
      requestId: target.requestId,
      endpointId: target.endpointId,
      status: 'completed',
      result: outcome.output,
      ...(outputs ? { outputs } : {}),
      recorded: target.record !== undefined,
      elapsedMs: Date.now() - started,
    };
  }
}
