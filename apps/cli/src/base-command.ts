import type {
  FalaiSettings,
  FalClient,
  ModelCatalogue,
  ModelRegistry,
  PendingStore,
  Redactor,
} from '@falai/core';
import { environmentRedactor, FalaiError, toFalaiError } from '@falai/core';
import type { DeferredSignal, RequestExpectation } from '@falai/core/internal';
import { SIGNAL_EXIT_CODES, stringifyJsonExact } from '@falai/core/internal';
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { exitCodeFor } from './exit-codes.js';
import { escapeJsonText, maskUrlPassword, sanitise } from './output.js';
import { openStore } from './store.js';

/** The flags every falai command accepts (shown under GLOBAL in help). */
export const globalFlags = {
  store: Flags.string({
    helpGroup: 'GLOBAL',
    description:
      'Where pending requests are kept: file:<path>, sqlite:<path>, redis://host:port/db or memory (env FALAI_STORE).',
  }),
  'base-url': Flags.string({
    helpGroup: 'GLOBAL',
    description:
      'Send every fal call to this server, e.g. the local emulator (env FALAI_BASE_URL).',
  }),
  quiet: Flags.boolean({
    char: 'q',
    helpGroup: 'GLOBAL',
    description: 'Print only the essential result (no notes, no progress).',
  }),
  config: Flags.string({
    helpGroup: 'GLOBAL',
    description: "Path of falai's config file (env FALAI_CONFIG).",
  }),
  key: Flags.string({
    helpGroup: 'GLOBAL',
    description:
      'The fal key <key_id>:<key_secret>, ahead of FAL_KEY and every other source (prefer FAL_KEY: flags end up in shell history).',
  }),
};

/** Parsed flags of a command class, global flags included. */
export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;
/** Parsed args of a command class. */
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * The base of every falai command (`class X extends BaseCommand<typeof X>`).
 *
 * - `init()` parses argv into `this.flags` / `this.args`, so parse errors go through `catch()`.
 * - `run()` returns the command's JSON result: oclif prints it under `--json`; in human mode
 *   the command prints with `this.log` (stdout) and `this.note` (stderr, silenced by `--quiet`).
 * - `settings()`, `store()`, `client()` and `registry()` are lazy: a command pays only for
 *   what it uses, the store driver is imported only when opened, and credentials are read
 *   only when the client builds an HTTP request (so offline commands never need a key).
 * - The store is closed in `finally()`.
 * - `catch()` turns any error into one `FalaiError`, sets the exit code from `EXIT_CODES`,
 *   and prints `{"error":{code,message,details}}` on stdout under `--json`, else one line
 *   `Error: <message>` on stderr (the stack only with `FALAI_DEBUG=1`).
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = globalFlags;

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  /**
   * This command's redactor: the keys of its environment, `--key`, and every key resolved
   * with its settings (they carry this redactor). Everything it prints goes through it, and
   * its store is given it.
   */
  protected readonly redactor: Redactor = environmentRedactor(process.env);

  #settings?: Promise<FalaiSettings>;
  #store?: Promise<PendingStore>;
  #client?: Promise<FalClient>;
  #registry?: Promise<ModelRegistry>;
  #catalogue?: Promise<ModelCatalogue>;

  override async init(): Promise<void> {
    await super.init();
    const ctor = this.ctor as unknown as typeof BaseCommand;
    const { args, flags } = await this.parse({
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      enableJsonFlag: ctor.enableJsonFlag,
      args: ctor.args,
      strict: ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
    const key = (this.flags as { key?: string }).key;
    if (key) this.redactor.add(key);
  }

  /** True when output is for a human on a terminal (spinners, colours, prompts). */
  protected get interactive(): boolean {
    return !this.jsonEnabled() && process.stderr.isTTY === true;
  }

  /** An informational line on stderr; silent under `--json` and `--quiet`. Sanitised. */
  protected note(message: string): void {
    if (this.jsonEnabled() || this.flags?.quiet) return;
    process.stderr.write(`${sanitise(message, this.redactor)}\n`);
  }

  /**
   * stdout in human mode. Whatever a command prints may hold text from fal (ids, logs,
   * results, errors) or the user's files, so it all goes through `sanitise` (no terminal
   * escapes, no key).
   */
  override log(message = '', ...args: unknown[]): void {
    super.log(typeof message === 'string' ? sanitise(message, this.redactor) : message, ...args);
  }

  /** Settings resolved once: flags > env > config file > defaults, each with its source. */
  protected settings(): Promise<FalaiSettings> {
    this.#settings ??= (async () => {
      const { resolveSettings } = await import('@falai/core');
      const flags: { baseUrl?: string; store?: string; configPath?: string } = {};
      if (this.flags?.['base-url']) flags.baseUrl = this.flags['base-url'];
      if (this.flags?.store) flags.store = this.flags.store;
      if (this.flags?.config) flags.configPath = this.flags.config;
      return resolveSettings({
        env: process.env,
        cwd: process.cwd(),
        flags,
        redactor: this.redactor,
      });
    })();
    return this.#settings;
  }

  /** The pending-request store chosen by `--store` / `FALAI_STORE` / config / default file. */
  protected store(): Promise<PendingStore> {
    this.#store ??= this.settings().then((settings) => openStore(settings.store, settings));
    return this.#store;
  }

  /**
   * The submit pipeline of `submit` and `run` (`submitFlags()`): read, validate, send local
   * files, submit once and record (core's `submitAndRecord`, signal-safe). The module loads
   * only when a command submits. `extra.signal` (`--timeout`) stops validation and uploads;
   * `extra.resume` names the command that resumes the request after an interrupt.
   */
  protected async submitFromFlags(
    args: Parameters<typeof import('./submit-request.js').submitOptions>[0],
    flags: Parameters<typeof import('./submit-request.js').submitOptions>[1],
    extra: {
      readonly signal?: AbortSignal;
      readonly resume?: (requestId: string) => string;
    } = {},
  ): Promise<import('./submit-request.js').SubmittedRequest> {
    const [{ submitOptions, submitRequest }, registry, client, store] = await Promise.all([
      import('./submit-request.js'),
      this.registry(),
      this.client(),
      this.store(),
    ]);
    const cost = await this.costStep(
      (flags as { readonly 'max-cost'?: number | undefined })['max-cost'],
    );
    return submitRequest({
      ...submitOptions(args, flags),
      redactor: this.redactor,
      registry,
      client,
      store,
      onNote: (line) => this.note(line),
      ...cost,
      ...extra,
    });
  }

  /**
   * The cost step of every submit (`submit`, `run`, `rerun`): the estimate (a note on stderr),
   * `--max-cost`, the config's budgets, and the journal `recover` reads. Spread the result
   * into the submit's options.
   */
  protected async costStep(
    maxCostUsd: number | undefined,
  ): Promise<Awaited<ReturnType<typeof import('./cost.js').submitCost>>> {
    const [{ submitCost }, store, settings] = await Promise.all([
      import('./cost.js'),
      this.store(),
      this.settings(),
    ]);
    return submitCost({
      settings,
      cacheDir: this.config.cacheDir,
      key: () => this.key(),
      userAgent: `${this.config.name}/${this.config.version}`,
      store,
      maxCostUsd,
      note: (line) => this.note(line),
    });
  }

  /**
   * What fal expects of a request to `endpointId` (duration estimate, analytics), for the ETA
   * while waiting; best effort, `{}` when fal cannot say.
   */
  protected async expectation(endpointId: string): Promise<RequestExpectation> {
    const [{ expectationFor }, settings, registry] = await Promise.all([
      import('./cost.js'),
      this.settings(),
      this.registry(),
    ]);
    return expectationFor({
      durationEstimateS: registry.get(endpointId)?.durationEstimate,
      settings,
      cacheDir: this.config.cacheDir,
      key: () => this.key(),
      userAgent: `${this.config.name}/${this.config.version}`,
      endpointId,
    }).catch(() => ({}));
  }

  #key: Promise<string> | undefined;

  /**
   * The fal key (`--key`, else the environment and files), looked up once per command: a
   * client asks for it on every request. A failed lookup is not kept, so it is tried again.
   */
  protected key(): Promise<string> {
    this.#key ??= (async () => {
      const { resolveCredentials } = await import('@falai/core');
      return (await resolveCredentials(await this.credentialOptions())).key;
    })();
    this.#key.catch(() => {
      this.#key = undefined;
    });
    return this.#key;
  }

  /** Where credentials are looked for: `--key` first, then the environment and files. */
  protected async credentialOptions(): Promise<{
    env: NodeJS.ProcessEnv;
    settings: FalaiSettings;
    explicitKey?: string;
  }> {
    const settings = await this.settings();
    const key = (this.flags as { key?: string }).key;
    return { env: process.env, settings, ...(key ? { explicitKey: key } : {}) };
  }

  /** The fal queue client; the key is resolved only when a request is built. */
  protected client(): Promise<FalClient> {
    this.#client ??= (async () => {
      const settings = await this.settings();
      const { createFalClient } = await import('@falai/core');
      return createFalClient({
        settings,
        credentials: () => this.key(),
        userAgent: `${this.config.name}/${this.config.version}`,
      });
    })();
    return this.#client;
  }

  /** The model registry: built-in models plus the user's model folders. */
  protected registry(): Promise<ModelRegistry> {
    this.#registry ??= (async () => {
      const settings = await this.settings();
      const { registryForSettings } = await import('@falai/core/internal');
      // Later folders win: FALAI_MODELS_DIR (or config modelsDir) over <config dir>/models.
      // Endpoints without a model file: fal's catalogue (cached), so any of them validates.
      return registryForSettings(settings, { provider: await this.catalogue() });
    })();
    return this.#registry;
  }

  /**
   * fal's catalogue with its cache in oclif's cache folder (`FALAI_CACHE_DIR`, else
   * `$XDG_CACHE_HOME/falai`): definitions of endpoints without a model file, search, prices.
   * Nothing is fetched until a method needs it; the key is read only then.
   */
  protected catalogue(): Promise<ModelCatalogue> {
    this.#catalogue ??= (async () => {
      const [{ openCatalogue }, settings] = await Promise.all([
        import('./catalogue.js'),
        this.settings(),
      ]);
      return openCatalogue({
        settings,
        cacheDir: this.config.cacheDir,
        key: () => this.key(),
        userAgent: `${this.config.name}/${this.config.version}`,
      });
    })();
    return this.#catalogue;
  }

  /** Removes the signal listeners once shutdown has finished (set by `waitForStop`). */
  protected releaseSignals: () => void = () => undefined;

  /**
   * Resolves when a long-running command (`webhook serve`, `gallery --serve`) should stop:
   * SIGINT or SIGTERM. Tests override it. The listener stays registered until shutdown is done
   * (call `releaseSignals`): the file store's lock library (signal-exit) re-raises a signal when
   * it finds itself the only listener, which would kill the process mid-shutdown, before
   * in-flight work finishes and the summary is printed.
   */
  protected waitForStop(): Promise<void> {
    return new Promise((resolve) => {
      const stop = () => resolve();
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      this.releaseSignals = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      };
    });
  }

  /**
   * `--json` output. oclif's own `logJson` runs the whole document through a regex tokeniser
   * to colour it, even when no theme is set and the colours are stripped: ~30 ms and heavy GC
   * for 1,000 records in `falai list --json`. Without a JSON theme the result is exactly
   * `JSON.stringify(json, null, 2)` (integers beyond 2^53 keep their digits), with any
   * FAL_KEY redacted and C1 controls escaped, so that is what is written.
   */
  protected override logJson(json: unknown): void {
    if (this.config.theme?.json) {
      // oclif colours and writes it itself: the key must be gone before it sees it.
      super.logJson(this.redactor.redactValue(json));
      return;
    }
    process.stdout.write(`${jsonText(json, this.redactor)}\n`);
  }

  override async finally(error: Error | undefined): Promise<void> {
    if (this.#store) {
      const store = await this.#store.catch(() => undefined);
      await store?.close().catch(() => undefined);
    }
    await super.finally(error);
  }

  override async catch(error: Error & { exitCode?: number }): Promise<void> {
    if (error instanceof Errors.ExitError) throw error;
    const falai = normaliseError(error);
    const signal = interruptSignal(falai);
    process.exitCode = signal ? SIGNAL_EXIT_CODES[signal] : exitCodeFor(falai.code);
    if (this.jsonEnabled()) {
      this.logJson({ error: falai.toJSON() });
    } else {
      process.stderr.write(`Error: ${sanitise(falai.message, this.redactor)}\n`);
      if (process.env.FALAI_DEBUG === '1' && error.stack)
        process.stderr.write(`${sanitise(error.stack, this.redactor)}\n`);
    }
    // Stopped on a second signal while the store was still busy (another process's lock):
    // the id is printed; waiting for the store to close would only wait for that lock.
    if (signal && (falai.details as { recorded?: unknown } | undefined)?.recorded === false) {
      process.exit(process.exitCode);
    }
  }
}

/** The signal an `ABORTED` error reports in `details.signal`, if any. */
function interruptSignal(error: FalaiError): DeferredSignal | undefined {
  if (error.code !== 'ABORTED') return undefined;
  const signal = (error.details as { signal?: unknown } | undefined)?.signal;
  return signal === 'SIGINT' || signal === 'SIGTERM' ? signal : undefined;
}

/**
 * A `--json` document as text: `JSON.stringify`, or exact JSON when a value is a bigint (a
 * 64-bit seed); then the keys `redactor` holds and URL passwords redacted, and C1 controls
 * escaped (which parses to the same value).
 */
export function jsonText(json: unknown, redactor: Redactor): string {
  let text: string;
  try {
    text = JSON.stringify(json, null, 2);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    text = stringifyJsonExact(json, 2);
  }
  return escapeJsonText(maskUrlPassword(redactor.redact(text)));
}

/** oclif's own parse errors (unknown flag, missing arg) become one-line `USAGE` errors. */
export function normaliseError(error: unknown): FalaiError {
  if (FalaiError.isInstance(error)) return error;
  if (error instanceof Errors.CLIError) {
    const lines = error.message
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('See more help'));
    const message = `${lines.join(' ')} (see --help)`;
    return new FalaiError('USAGE', message);
  }
  return toFalaiError(error);
}
