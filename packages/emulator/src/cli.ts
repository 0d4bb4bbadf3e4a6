import { startEmulator } from './emulator.js';
import type { Emulator, EmulatorOptions, FaultAction, FaultRule, ModelBehaviour } from './types.js';

/** Thrown for bad command-line flags; the bin prints the message and exits 2. */
export class UsageError extends Error {}

/** Thrown when the chosen port is taken; the message says how to pick another. */
class PortInUseError extends UsageError {
  constructor(readonly port: number | undefined) {
    super(`port ${port ?? ''} is in use; pick another with --port (0 picks a free one)`);
  }
}

/** The flags, as `--help` prints them (the `falai emulator` command takes the same). */
export const USAGE = `Usage: falai-emulator [options]
  --port <n>           port to listen on (default 8787; 0 picks a free one)
  --host <addr>        address to bind (default 127.0.0.1)
  --models-dir <dir>   more model definitions, read after the built-in ones (repeatable)
  --deterministic      sequential request ids and fixed timings
  --seed <n>           PRNG seed for fault draws, ranged latencies and output seeds
  --latency-ms <n>     run time of each job in ms (queue time is a sixth of it)
  --fail-rate <0..1>   fraction of queue calls failing with random 429/5xx/drops
  --concurrency <n>    jobs IN_PROGRESS at once per key, the rest wait IN_QUEUE
                       (default 2, fal's limit for new accounts; "unlimited" lifts it)
  --rate-limit <n>[/<s>]  at most n queue calls per key every s seconds (default 1);
                       more answer 429 with Retry-After (default: no limit)
  --strict             404 for unknown endpoint ids at submit, 405 for status, result
                       and cancel under the full endpoint id (as the live service)
  --time-scale <x>     multiply fal's own durations (result retention 1 h / 6 min,
                       webhook retries over 2 h), e.g. 0.001 for tests (default 1)
  --bandwidth <rate>   bytes per second for each upload and download, e.g. 65536 or 64k
  --model <id>=<json>  per-model behaviour (repeatable), e.g.
                       --model 'fal-ai/nano-banana-pro={"runMs":5000,"queueDepth":3}'
                       keys: queueMs, runMs, queueDepth, logs, cancelAware, nsfw,
                       webhookPayloadError, billableUnits, output,
                       completeWithError {"status":422,"detail":"…","error_type":"…"}
  --fault <json>       a fault rule (repeatable), e.g.
                       --fault '{"match":{"kind":"status"},"action":{"type":"status","status":429,"retryAfterSeconds":2},"times":3}'
                       actions: status, drop, delay {"ms":…}, drop-after-accept,
                       stall {"afterBytes":…} (downloads and upload bodies)
  --admin-key <key>    a key with fal's ADMIN scope for the Platform API (billing events,
                       usage, account credits; repeatable); other keys are API keys
  --log-file <path>    write the request log (NDJSON, keys redacted) there on exit
  --help               show this help`;

function number(flag: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`${flag} expects a number between ${min} and ${max}, got "${raw ?? ''}"`);
  }
  return value;
}

/** Parsed command line: emulator options plus the controls applied once it listens. */
export interface CliOptions {
  options: EmulatorOptions;
  failRate: number;
  models: Array<[string, ModelBehaviour]>;
  faults: FaultRule[];
  logFile?: string;
  help: boolean;
}

function jsonObject(
  flag: string,
  raw: string | undefined,
  example: string,
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '');
  } catch {
    throw new UsageError(`${flag} expects a JSON object, e.g. ${example}; got "${raw ?? ''}"`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`${flag} expects a JSON object, e.g. ${example}`);
  }
  return parsed as Record<string, unknown>;
}

const MODEL_EXAMPLE = `'acme/app={"runMs":2000}'`;
const FAULT_EXAMPLE = `'{"match":{"kind":"submit"},"action":{"type":"status","status":503},"times":1}'`;
const FAULT_ACTIONS = ['status', 'drop', 'delay', 'drop-after-accept', 'stall'];

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `65536`, `64k`, `1.5m` (binary multiples) → bytes per second. */
function bandwidthValue(raw: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(raw?.trim() ?? '');
  const value = match ? Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? 1) : 0;
  if (!match || !(value >= 1)) {
    throw new UsageError(
      `--bandwidth expects bytes per second, e.g. 65536, 64k or 1m; got "${raw ?? ''}"`,
    );
  }
  return Math.floor(value);
}

/** `100` or `100/60` → at most 100 calls per key every 60 s. */
function rateLimitValue(raw: string | undefined): { requests: number; windowMs: number } {
  const match = /^(\d+)(?:\/(\d+(?:\.\d+)?))?$/.exec(raw?.trim() ?? '');
  const requests = Number(match?.[1]);
  const seconds = Number(match?.[2] ?? 1);
  if (!match || requests < 1 || !(seconds > 0)) {
    throw new UsageError(
      `--rate-limit expects <calls>[/<seconds>], e.g. 10 or 600/60; got "${raw ?? ''}"`,
    );
  }
  return { requests, windowMs: seconds * 1000 };
}

/** Parses the emulator's flags; throws `UsageError` with a fix-it message on bad input. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const options: EmulatorOptions = { port: 8787 };
  let failRate = 0;
  let help = false;
  const models: Array<[string, ModelBehaviour]> = [];
  const faults: FaultRule[] = [];
  let logFile: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++index];
    switch (flag) {
      case '--port':
        options.port = number('--port', value(), 0, 65535);
        break;
      case '--host': {
        const host = value();
        if (!host) throw new UsageError('--host expects an address, e.g. 127.0.0.1');
        options.host = host;
        break;
      }
      case '--models-dir': {
        const dir = value();
        if (!dir) throw new UsageError('--models-dir expects a folder path');
        options.modelsDirs = [...(options.modelsDirs ?? []), dir];
        break;
      }
      case '--deterministic':
        options.deterministic = true;
        break;
      case '--seed':
        options.seed = number('--seed', value(), 0, 2 ** 32 - 1);
        break;
      case '--latency-ms': {
        const ms = number('--latency-ms', value(), 0, 3_600_000);
        options.defaultLatency = { queueMs: Math.round(ms / 6), runMs: ms };
        break;
      }
      case '--fail-rate':
        failRate = number('--fail-rate', value(), 0, 1);
        break;
      case '--concurrency': {
        const raw = value();
        options.concurrency =
          raw === 'unlimited'
            ? Number.POSITIVE_INFINITY
            : number('--concurrency', raw, 1, 1_000_000);
        break;
      }
      case '--rate-limit':
        options.rateLimit = rateLimitValue(value());
        break;
      case '--strict':
        options.strict = true;
        break;
      case '--time-scale':
        options.timeScale = number('--time-scale', value(), 0.000001, 1000);
        break;
      case '--bandwidth':
        options.bandwidth = bandwidthValue(value());
        break;
      case '--model': {
        const raw = value() ?? '';
        const at = raw.indexOf('=');
        if (at <= 0)
          throw new UsageError(`--model expects <endpoint id>=<json>, e.g. ${MODEL_EXAMPLE}`);
        models.push([
          raw.slice(0, at),
          jsonObject('--model', raw.slice(at + 1), MODEL_EXAMPLE) as ModelBehaviour,
        ]);
        break;
      }
      case '--fault': {
        const rule = jsonObject('--fault', value(), FAULT_EXAMPLE);
        const action = rule.action as { type?: unknown } | undefined;
        if (!action || !FAULT_ACTIONS.includes(String(action.type))) {
          throw new UsageError(
            `--fault needs "action" with "type" one of ${FAULT_ACTIONS.join(', ')}, e.g. ${FAULT_EXAMPLE}`,
          );
        }
        faults.push(rule as unknown as FaultRule);
        break;
      }
      case '--admin-key': {
        const key = value() ?? '';
        if (!key.includes(':')) {
          throw new UsageError('--admin-key expects a key such as admin-id:admin-secret');
        }
        options.platform = {
          ...options.platform,
          adminKeys: [...(options.platform?.adminKeys ?? []), key],
        };
        break;
      }
      case '--log-file':
        logFile = value();
        if (!logFile) throw new UsageError('--log-file expects a file path');
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new UsageError(`Unknown option "${arg}". Run with --help to see the options.`);
    }
  }
  return { options, failRate, models, faults, ...(logFile ? { logFile } : {}), help };
}

/** The mix of failures `--fail-rate` draws from: what fal's clients must retry or survive. */
export const RANDOM_FAILURES: FaultAction[] = [
  { type: 'status', status: 429, retryAfterSeconds: 1, body: { detail: 'Too many requests' } },
  { type: 'status', status: 500, body: { detail: 'Internal server error' } },
  { type: 'status', status: 502, body: { detail: 'Bad gateway' } },
  { type: 'status', status: 503, body: { detail: 'Service unavailable' } },
  { type: 'status', status: 504, body: { detail: 'Gateway timeout' } },
  { type: 'drop' },
];

/** Where `main()` writes and what stops it, so the CLI app and tests can run it in-process. */
export interface MainIo {
  /** Receives stdout lines. @default process.stdout */
  write?: (line: string) => void;
  /** Receives error lines. @default process.stderr */
  writeError?: (line: string) => void;
  /** Stops the emulator when aborted (in addition to SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Called once the emulator listens, e.g. to read its URL. */
  onReady?: (emulator: Emulator) => void;
}

/**
 * Starts an emulator from parsed flags and applies their scenario controls (`--fail-rate`,
 * `--model`, `--fault`). `extra` overrides options (the `falai emulator` command passes its
 * model folders). Throws `PortInUseError` when the port is taken.
 */
export async function startFromArgs(
  parsed: CliOptions,
  extra: EmulatorOptions = {},
): Promise<Emulator> {
  const options = { ...parsed.options, ...extra };
  let emulator: Emulator;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(options.port);
    }
    throw error;
  }
  if (parsed.failRate > 0) {
    emulator.inject({
      match: { kind: ['submit', 'status', 'result', 'cancel', 'upload-initiate'] },
      probability: parsed.failRate,
      action: { type: 'one-of', actions: RANDOM_FAILURES },
    });
  }
  for (const [endpointId, behaviour] of parsed.models) emulator.setModel(endpointId, behaviour);
  for (const rule of parsed.faults) emulator.inject(rule);
  return emulator;
}

/** Closes an emulator started by `startFromArgs` and writes `--log-file`, if asked. */
export async function stopFromArgs(emulator: Emulator, parsed: CliOptions): Promise<void> {
  await emulator.close();
  if (parsed.logFile) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      parsed.logFile,
      emulator.log.map((entry) => JSON.stringify(entry)).join('\n') +
        (emulator.log.length ? '\n' : ''),
    );
  }
}

/**
 * Runs the emulator from a command line until SIGINT/SIGTERM (or `io.signal`); resolves with
 * the exit code.
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  io: MainIo = {},
): Promise<number> {
  const write = io.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const writeError = io.writeError ?? ((line: string) => process.stderr.write(`${line}\n`));
  let parsed: CliOptions;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      writeError(`falai-emulator: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (parsed.help) {
    write(USAGE);
    return 0;
  }
  let emulator: Emulator;
  try {
    emulator = await startFromArgs(parsed);
  } catch (error) {
    if (error instanceof PortInUseError) {
      writeError(`falai-emulator: ${error.message}.`);
      return 1;
    }
    throw error;
  }
  write(`falai emulator listening on ${emulator.url}`);
  write(`export FALAI_BASE_URL=${emulator.url}`);
  io.onReady?.(emulator);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop);
  });
  await stopFromArgs(emulator, parsed);
  return 0;
}
