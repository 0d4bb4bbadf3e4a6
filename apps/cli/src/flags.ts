import { InputError } from '@falai/core';
import { Args, Errors, Flags } from '@oclif/core';

/** Positional endpoint id, e.g. `fal-ai/nano-banana-pro`. */
export const endpointArg = () =>
  Args.string({ description: 'Endpoint (model) id, e.g. fal-ai/nano-banana-pro.', required: true });

/** Positional request id as returned by `submit`. */
export const requestIdArg = () =>
  Args.string({
    description: 'Request id, as printed by submit, or a unique prefix of a stored one.',
    required: true,
  });

/** Positional model input: a JSON string, `@file.json`, or `-` for stdin. */
export const inputArg = () =>
  Args.string({
    description:
      'Model input: a JSON object string, @file.json, or - to read stdin. Combine with --set.',
    required: false,
  });

/** Repeatable `--set key=value`, coerced by the model's field type (see `src/input.ts`). */
export const setFlag = () =>
  Flags.string({
    char: 's',
    multiple: true,
    // One value per --set, so flags may come before the endpoint: run --set prompt=x <endpoint>.
    multipleNonGreedy: true,
    description:
      'Set one input field, coerced by the model schema: --set prompt="a cat" --set num_images=2 --set image_urls=./a.png (repeat to append; nested: elements.0.frontal_image_url=…).',
  });

/** Output folder for downloaded files. */
export const outFlag = () =>
  Flags.string({
    char: 'o',
    description:
      'Where outputs are saved: a folder (default ./falai-output, or config outputDir), or a file name such as cat.png (several outputs: cat-1.png, cat-2.png, …).',
  });

/** Allow replacing existing output files. */
export const forceFlag = () =>
  Flags.boolean({ char: 'f', description: 'Overwrite existing output files.', default: false });

/** A duration such as `90s`, `5m`, `1500ms` or a plain number of seconds; parsed to ms. */
export const timeoutFlag = (description = 'Give up waiting after this long (e.g. 90s, 10m).') =>
  Flags.custom<number>({ description, parse: async (input) => parseDuration(input) })();

/** `--webhook <url>`: fal calls this URL when the request finishes. */
export const webhookFlag = () =>
  Flags.string({
    description: 'URL fal calls when the request finishes (see `falai webhook serve`).',
    parse: async (input) => {
      try {
        const url = new URL(input);
        if (url.protocol === 'http:' || url.protocol === 'https:') return input;
      } catch {}
      throw new InputError(`--webhook must be an http(s) URL, got "${input}".`, [
        { path: ['webhook'], message: 'not an http(s) URL', kind: 'type' },
      ]);
    },
  });

/** Bounded concurrency for pools (poll, downloads). */
export const concurrencyFlag = (defaultValue = 8) =>
  Flags.integer({
    description: 'How many requests to check at once.',
    default: defaultValue,
    min: 1,
    max: 256,
  });

/**
 * Parses `500ms`, `2s`, `5m`, `1h`, `7d` or a bare number of seconds into milliseconds. It
 * parses flag values: what does not parse is a usage error (exit 2) like any other bad flag
 * value, an oclif `CLIError` that `normaliseError` turns into one `USAGE` line after oclif's
 * `Parsing --<flag>` prefix.
 */
export function parseDuration(input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(input);
  if (!match) {
    throw new Errors.CLIError(
      `${JSON.stringify(input)} is not a duration: use e.g. 500ms, 30s, 5m, 1h or 7d; a bare number means seconds`,
    );
  }
  const value = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const factors: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
  };
  const factor = factors[unit] ?? 1000;
  return Math.round(value * factor);
}

/**
 * The seed's `[endpoint] <request-id>` argument pair: the endpoint may be left out when the
 * store knows the request (`resolveTarget` in requests.ts sorts out which is which and says
 * what is missing). Both are optional to oclif so that its error never names an internal
 * argument.
 */
export const targetArgs = () => ({
  endpoint: Args.string({
    required: false,
    description: 'Endpoint id; leave it out when the store knows the request.',
  }),
  'request-id': Args.string({
    required: false,
    description: 'Request id (required), or a unique prefix of a stored one.',
  }),
});

/** Usage line for commands taking `targetArgs()`. */
export const TARGET_USAGE = '<%= command.id %> [ENDPOINT] REQUEST-ID';

/**
 * `--max-cost <usd>`: refuse a submit whose estimate is above it (exit 4, nothing sent), or
 * whose cost cannot be estimated.
 */
export const maxCostFlag = () =>
  Flags.custom<number>({
    description:
      'Refuse to submit when the estimated cost is above this many US dollars, e.g. 0.50 (exit 4, nothing sent); also refuses when the cost cannot be estimated.',
    helpValue: '<usd>',
    parse: async (input) => parseUsd(input, '--max-cost'),
  })();

/** `0.5`, `$0.50`, `2` → dollars; a usage error (exit 2) for anything else. */
export function parseUsd(input: string, flag: string): number {
  const text = input.trim().replace(/^\$/, '');
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(value) || value > 1_000_000) {
    throw new Errors.CLIError(
      `${flag} takes an amount of US dollars such as 0.50 or 5, got ${JSON.stringify(input)}`,
    );
  }
  return value;
}

/** Flags shared by `submit` and `run`: input editing, validation and how files are sent. */
export const submitFlags = () => ({
  set: setFlag(),
  webhook: webhookFlag(),
  'max-cost': maxCostFlag(),
  session: Flags.string({
    description:
      'The chat session that asked (an OpenClaw session key), recorded with the request so `falai skill deliver --session` sends its outputs back there.',
  }),
  strict: Flags.boolean({
    description: 'Refuse endpoints falai has no model definition for.',
    default: false,
  }),
  validate: Flags.boolean({
    description: 'Validate the input locally first (--no-validate skips it).',
    default: true,
    allowNo: true,
  }),
  'force-input': Flags.boolean({
    description:
      "Send the input even where falai's model definition objects to it (unknown field, wrong type, value out of range or not in the list): those problems are shown as warnings instead of stopping the submit. For when fal changed the model before falai's definition did; fal may still refuse or bill the request. Unsafe keys and unreadable local files still stop it.",
    default: false,
  }),
  'upload-mode': Flags.custom<'auto' | 'data-uri' | 'upload'>({
    description: 'How local files are sent: auto (by size), data-uri or upload.',
    options: ['auto', 'data-uri', 'upload'],
    default: 'auto',
  })(),
});

/**
 * Checks a `config get|set|unset` key: one of the config file's keys or a budget key
 * (`budget.daily`, `budget.key.<key id>.daily`, `budget.store.<store>.daily`). Anything else
 * is a usage error (exit 2) listing the keys.
 */
export async function checkConfigKey(key: string): Promise<void> {
  const core = await import('@falai/core/internal');
  if ((core.CONFIG_KEYS as readonly string[]).includes(key)) return;
  if (core.isBudgetConfigKey(key)) {
    try {
      core.parseBudgetKey(key);
      return;
    } catch (error) {
      throw new core.FalaiError('USAGE', (error as Error).message);
    }
  }
  throw new core.FalaiError(
    'USAGE',
    `Unknown config key "${key}". Valid keys: ${[...core.CONFIG_KEYS, ...core.BUDGET_CONFIG_KEYS].join(', ')}.`,
  );
}
