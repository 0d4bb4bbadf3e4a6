import type { FalClient, PendingStore, RunOutput } from '@falai/core';
import { AbortedError } from '@falai/core';
import { requestCancel, saveOutputs } from '@falai/core/internal';
import { Flags } from '@oclif/core';
import { BaseCommand, jsonText } from '../base-command.js';
import { estimateFields } from '../cost.js';
import { endpointArg, forceFlag, inputArg, outFlag, submitFlags, timeoutFlag } from '../flags.js';
import { checkOutputFlags, nameFlag, outputTarget } from '../output-names.js';
import { commandDeadline, waitFor } from '../waiting.js';

/** Submit, wait with live progress, download: the one-shot command. */
export default class Run extends BaseCommand<typeof Run> {
  static override summary =
    'Submit a request, wait for it with live progress, and save the outputs.';
  static override description =
    'Does submit + wait + download in one go: shows queue position, elapsed time and new log lines on a terminal, then saves the outputs as <out>/<request-id>-<index>.<ext> and prints their paths. Ctrl-C asks whether to cancel the request or leave it pending (without a terminal it is left pending; resume with falai wait <id>).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro --set prompt="a lighthouse at dusk"',
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro/edit --set prompt="watercolor" --set image_urls=./photo.jpg --out ./renders',
    `<%= config.bin %> <%= command.id %> fal-ai/flux/dev/image-to-image '{"prompt":"anime","image_url":"./me.png"}' --json`,
  ];
  static override args = { endpoint: endpointArg(), input: inputArg() };
  static override flags = {
    ...submitFlags(),
    out: outFlag(),
    name: nameFlag(),
    force: forceFlag(),
    timeout: timeoutFlag(),
    download: Flags.boolean({
      description: 'Save the outputs (--no-download prints the result instead).',
      default: true,
      allowNo: true,
    }),
    logs: Flags.boolean({ description: 'Print new log lines even without a terminal.' }),
  };

  async run(): Promise<RunOutput> {
    const started = Date.now();
    checkOutputFlags(this.flags.out, this.flags.name);
    // --timeout covers the whole command: submit (up to the POST), wait and download.
    const deadline = commandDeadline(this.flags.timeout);
    const submitted = await this.submitFromFlags(this.args, this.flags, {
      ...(deadline ? { signal: deadline.signal } : {}),
      resume: (id) => `falai wait ${id} --download`,
    });
    const [client, store, settings] = await Promise.all([
      this.client(),
      this.store(),
      this.settings(),
    ]);
    const { requestId, endpointId } = submitted.record;

    const controller = new AbortController();
    let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
    const onSigint = () => {
      stoppedBy ??= 'SIGINT';
      controller.abort();
    };
    const onSigterm = () => {
      stoppedBy ??= 'SIGTERM';
      controller.abort();
    };
    // `on`, not `once`: signal-exit (via the file store's lock) re-raises the signal when it
    // sees itself as the only listener, which would kill the process before `interrupted` runs.
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    // Printed only once the handlers are in place: a Ctrl-C sent on seeing this line must reach
    // them, not the default action (which would end the process without the resume hint).
    this.note(`Submitted ${requestId} to ${endpointId}.`);
    let outcome: Awaited<ReturnType<typeof waitFor>>;
    try {
      outcome = await waitFor({
        client,
        store,
        target: { endpointId, requestId, record: submitted.record },
        deadline,
        tty: this.interactive && !this.flags.quiet,
        logs: this.flags.logs && !this.jsonEnabled(),
        signal: controller.signal,
        redactor: this.redactor,
        expectation: () => this.expectation(endpointId),
      });
    } catch (error) {
      if (stoppedBy) await this.interrupted(client, store, endpointId, requestId, stoppedBy);
      throw error;
    } finally {
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigterm);
    }

    const outputs = !this.flags.download
      ? []
      : await saveOutputs({
          store,
          requestId,
          result: outcome.output,
          ...outputTarget({
            out: this.flags.out,
            name: this.flags.name,
            defaultDir: settings.outputDir,
            requestId,
            endpointId,
          }),
          force: this.flags.force,
          settings,
          deadline,
        });
    if (outputs.length > 0) for (const file of outputs) this.log(file.path);
    else this.log(jsonText(outcome.output, this.redactor));
    return {
      requestId,
      endpointId,
      status: 'completed',
      result: outcome.output,
      outputs,
      recorded: true,
      elapsedMs: Date.now() - started,
      warnings: submitted.warnings,
      ...estimateFields(submitted.estimate),
    };
  }

  /**
   * Ctrl-C: on a terminal ask whether to cancel; otherwise (or on "leave", a second Ctrl-C,
   * Ctrl-D, or SIGTERM) keep the request pending in the store and say how to resume. Ends
   * with exit status 130 (143 after SIGTERM).
   */
  private async interrupted(
    client: FalClient,
    store: PendingStore,
    endpointId: string,
    requestId: string,
    signal: 'SIGINT' | 'SIGTERM',
  ): Promise<never> {
    let cancel = false;
    if (signal === 'SIGINT' && this.interactive && process.stdin.isTTY) {
      const answer = await ask('\nCancel the request or leave it pending? [c/L] ');
      cancel = answer?.trim().toLowerCase().startsWith('c') === true;
    }
    if (cancel) {
      const record = await store.get(requestId);
      const cancelled = await requestCancel(client, store, {
        endpointId,
        requestId,
        ...(record ? { record } : {}),
      });
      const confirmed = cancelled.status === 'cancelled';
      throw new AbortedError(
        'ABORTED',
        confirmed
          ? `Interrupted; request ${requestId} was cancelled.`
          : `Interrupted; cancellation of ${requestId} was requested but fal has not confirmed it (the app may finish it anyway). Record the outcome with: falai wait ${requestId} --download`,
        { details: { requestId, endpointId, cancelled: confirmed } },
      );
    }
    throw new AbortedError(
      'ABORTED',
      `Interrupted; request ${requestId} is still pending. Resume with: falai wait ${requestId} --download`,
      { details: { requestId, endpointId, cancelled: false, signal } },
    );
  }
}

/**
 * One answer from the terminal; undefined when the user presses Ctrl-C again or Ctrl-D
 * (which then mean "leave it", never a crash).
 */
async function ask(question: string): Promise<string | undefined> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    let answered = false;
    const finish = (answer: string | undefined) => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(answer);
    };
    rl.on('SIGINT', () => {
      process.stderr.write('\n');
      finish(undefined);
    });
    rl.on('close', () => finish(undefined));
    rl.question(question, (answer) => finish(answer));
  });
}
