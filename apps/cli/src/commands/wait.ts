import type { OutputFile, WaitOutput } from '@falai/core';
import { AbortedError } from '@falai/core';
import { findOutputFiles, resolveTarget, saveOutputs } from '@falai/core/internal';
import { Flags } from '@oclif/core';
import { BaseCommand, jsonText } from '../base-command.js';
import { forceFlag, outFlag, TARGET_USAGE, targetArgs, timeoutFlag } from '../flags.js';
import { describeOutputs } from '../output.js';
import { checkOutputFlags, nameFlag, outputTarget } from '../output-names.js';
import { commandDeadline, waitFor } from '../waiting.js';

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
    name: nameFlag(),
    force: forceFlag(),
    logs: Flags.boolean({ description: 'Print new log lines as they arrive.' }),
  };

  async run(): Promise<WaitOutput> {
    const started = Date.now();
    checkOutputFlags(this.flags.out, this.flags.name);
    // --timeout covers the whole command: the wait and the download.
    const deadline = commandDeadline(this.flags.timeout);
    const store = await this.store();
    const target = await resolveTarget(store, this.args.endpoint, this.args['request-id'], 'wait');
    const client = await this.client();
    // Ctrl-C stops waiting, not the request: say how to pick the wait up again (as run does).
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    // `on`, not `once` (see run): signal-exit re-raises a signal it sees no other listener for.
    process.on('SIGINT', onSigint);
    let outcome: Awaited<ReturnType<typeof waitFor>>;
    try {
      outcome = await waitFor({
        client,
        store,
        target,
        deadline,
        tty: this.interactive && !this.flags.quiet,
        logs: this.flags.logs && !this.jsonEnabled(),
        signal: controller.signal,
        redactor: this.redactor,
        expectation: () => this.expectation(target.endpointId),
      });
    } catch (error) {
      if (controller.signal.aborted) {
        const resume = `falai wait ${target.record ? '' : `${target.endpointId} `}${target.requestId}${this.flags.download ? ' --download' : ''}`;
        throw new AbortedError(
          'ABORTED',
          `Interrupted; request ${target.requestId} is still pending. Resume with: ${resume}`,
          {
            details: {
              requestId: target.requestId,
              endpointId: target.endpointId,
              cancelled: false,
            },
          },
        );
      }
      throw error;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    let outputs: OutputFile[] | undefined;
    if (this.flags.download) {
      outputs = await saveOutputs({
        store,
        requestId: target.requestId,
        result: outcome.output,
        ...outputTarget({
          out: this.flags.out,
          name: this.flags.name,
          defaultDir: (await this.settings()).outputDir,
          requestId: target.requestId,
          endpointId: target.endpointId,
        }),
        ...(target.record?.outputs ? { previous: target.record.outputs } : {}),
        force: this.flags.force,
        settings: await this.settings(),
        record: target.record !== undefined,
        deadline,
      });
      for (const line of describeOutputs(outputs, [])) this.log(line);
    } else if (this.flags.quiet) {
      for (const ref of findOutputFiles(outcome.output)) this.log(ref.url);
    } else {
      this.log(jsonText(outcome.output, this.redactor));
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
