import type { EmulatorOutput } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand, bundledModelsDir } from '../base-command.js';

/** Starts the local fal emulator in this process, for offline use and demos. */
export default class Emulator extends BaseCommand<typeof Emulator> {
  static override summary = 'Start a local fal.ai emulator for offline use.';
  static override description =
    "Serves fal's queue, storage and webhook protocol on 127.0.0.1 with real generated images and videos, so falai (and anything speaking fal's API) works offline. Prints the URL and the export line that points falai at it; runs until Ctrl-C. Any well-formed key (id:secret) is accepted.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> --port 8787',
    '<%= config.bin %> <%= command.id %> --port 0 --json',
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
    'latency-ms': Flags.integer({ description: 'Run time of each job in ms.', min: 0 }),
  };

  async run(): Promise<EmulatorOutput | undefined> {
    const { startEmulator } = await import('@falai/emulator');
    const { defaultModelsDir } = await import('@falai/core');
    const settings = await this.settings();
    const emulator = await startEmulator({
      // The same model files the registry reads, also when falai is installed from npm.
      modelsDirs: [
        bundledModelsDir() ?? defaultModelsDir(),
        ...(settings.modelsDir ? [settings.modelsDir] : []),
      ],
      port: this.flags.port,
      host: this.flags.host,
      deterministic: this.flags.deterministic,
      ...(this.flags['latency-ms'] === undefined
        ? {}
        : { defaultLatency: { queueMs: 0, runMs: this.flags['latency-ms'] } }),
    });
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
      await emulator.close();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    this.note('emulator stopped');
    // Printed at start already; nothing more under --json.
    return undefined;
  }
}
