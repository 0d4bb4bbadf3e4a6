import type { EmulatorOutput } from '@falai/core';
import { FalaiError } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';

/** Starts the local fal emulator in this process, for offline use and demos. */
export default class Emulator extends BaseCommand<typeof Emulator> {
  static override summary = 'Start a local fal.ai emulator for offline use.';
  static override description =
    "Serves fal's queue, storage and webhook protocol on 127.0.0.1 with real generated images and videos, so falai (and anything speaking fal's API) works offline. Prints the URL and the export line that points falai at it; runs until Ctrl-C. Any well-formed key (id:secret) is accepted. It behaves like fal by default: 2 running requests per key (the rest wait in the queue), results kept 1 h (6 min when 10 KB or more), cancelling a running request only asks. Takes the same flags as `pnpm emulator`.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> --port 8787',
    '<%= config.bin %> <%= command.id %> --port 0 --json',
    '<%= config.bin %> <%= command.id %> --strict --time-scale 0.001 --concurrency 4',
    `<%= config.bin %> <%= command.id %> --model 'fal-ai/nano-banana-pro={"runMs":5000,"queueDepth":3}' --fail-rate 0.1`,
  ];
  static override flags = {
    port: Flags.integer({
      char: 'p',
      description: 'Port (0 picks a free one).',
      default: 8787,
      min: 0,
      max: 65535,
    }),
    host: Flags.string({ description: 'Interface to listen on.', default: '127.0.0.1' }),
    deterministic: Flags.boolean({ description: 'Sequential request ids and fixed latencies.' }),
    seed: Flags.string({
      description: 'PRNG seed for fault draws, ranged latencies and output seeds.',
    }),
    'latency-ms': Flags.integer({
      description: 'Run time of each job in ms (queue time is a sixth of it).',
      min: 0,
    }),
    concurrency: Flags.string({
      description:
        'Requests running at once per key; the rest wait IN_QUEUE (default 2, like a new fal account; "unlimited" lifts it).',
    }),
    'rate-limit': Flags.string({
      description:
        'At most <calls>[/<seconds>] queue calls per key; more answer 429 with Retry-After (default: none).',
    }),
    strict: Flags.boolean({
      description:
        'Answer like the live service: 404 for unknown endpoint ids, 405 for status/result/cancel under the full endpoint id.',
    }),
    'time-scale': Flags.string({
      description:
        "Multiply fal's own durations (result retention, webhook retry span), e.g. 0.001 for tests.",
    }),
    bandwidth: Flags.string({
      description: 'Bytes per second for each upload and download, e.g. 65536, 64k or 1m.',
    }),
    'fail-rate': Flags.string({
      description: 'Fraction (0..1) of queue calls failing with a random 429/5xx or a drop.',
    }),
    model: Flags.string({
      multiple: true,
      description:
        'Per-model behaviour <endpoint id>=<json> (repeatable), e.g. \'acme/app={"runMs":2000,"cancelAware":true}\'.',
    }),
    fault: Flags.string({
      multiple: true,
      description:
        'A fault rule as JSON (repeatable), e.g. \'{"match":{"kind":"status"},"action":{"type":"status","status":429},"times":3}\'.',
    }),
    'log-file': Flags.string({
      description: 'Write the request log (NDJSON, keys redacted) to this file on exit.',
    }),
  };

  /** The emulator flags, back in the emulator's own command-line form. */
  private emulatorArgv(): string[] {
    const flags = this.flags;
    const argv = ['--port', String(flags.port), '--host', flags.host];
    if (flags.deterministic) argv.push('--deterministic');
    if (flags.strict) argv.push('--strict');
    const valued = [
      ['--seed', flags.seed],
      ['--latency-ms', flags['latency-ms'] === undefined ? undefined : String(flags['latency-ms'])],
      ['--concurrency', flags.concurrency],
      ['--rate-limit', flags['rate-limit']],
      ['--time-scale', flags['time-scale']],
      ['--bandwidth', flags.bandwidth],
      ['--fail-rate', flags['fail-rate']],
      ['--log-file', flags['log-file']],
    ] as const;
    for (const [name, value] of valued) if (value !== undefined) argv.push(name, value);
    for (const model of flags.model ?? []) argv.push('--model', model);
    for (const fault of flags.fault ?? []) argv.push('--fault', fault);
    return argv;
  }

  async run(): Promise<EmulatorOutput | undefined> {
    // One parser for both entry points: `pnpm emulator` and this command take the same flags.
    const { parseArgs, startFromArgs, stopFromArgs, UsageError } = await import('@falai/emulator');
    const settings = await this.settings();
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs(this.emulatorArgv());
    } catch (error) {
      if (error instanceof UsageError) throw new FalaiError('USAGE', error.message);
      throw error;
    }
    let emulator: Awaited<ReturnType<typeof startFromArgs>>;
    try {
      emulator = await startFromArgs(parsed, {
        // The emulator plays the built-in models itself (@falai/models, embedded in the
        // bundle); the user's model folder comes on top of them, as in the registry.
        modelsDirs: settings.modelsDir ? [settings.modelsDir] : [],
      });
    } catch (error) {
      // A busy port says which flag fixes it, instead of "listen EADDRINUSE".
      if (error instanceof UsageError) throw new FalaiError('USAGE', error.message);
      throw error;
    }
    const output: EmulatorOutput = { url: emulator.url, env: { FALAI_BASE_URL: emulator.url } };
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify(output)}\n`);
    } else {
      this.log(`falai emulator listening on ${emulator.url}`);
      this.log(`export FALAI_BASE_URL=${emulator.url}`);
      this.note(
        'Any key of the form id:secret works, e.g. export FAL_KEY=local:dev. Ctrl-C stops it.',
      );
    }
    // `on`, kept until the emulator is closed: with `once` a signal-exit handler loaded by a
    // dependency could find itself the only listener and re-raise the signal mid-shutdown.
    let onSignal: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      onSignal = () => resolve();
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await stopped;
      await stopFromArgs(emulator, parsed);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    this.note('emulator stopped');
    // Printed at start already; nothing more under --json.
    return undefined;
  }
}
