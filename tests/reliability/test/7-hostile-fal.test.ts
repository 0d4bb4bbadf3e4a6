import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../../apps/cli/src/exit-codes.js';
import { type CliRun, cliEnv, runCli, storeSpec, suite, workDir } from './helpers.js';
import {
  type Ctx,
  type HostileFal,
  type HostileOptions,
  html,
  json,
  PNG,
  pngResult,
  redirect,
  stall,
  startHostileFal,
  startSilentServer,
  statusBody,
  stream,
} from './hostile-server.js';

/**
 * falai against a fal that lies (hostile-server.ts): traversal names in outputs, non-JSON
 * 200s, cross-host redirects, stalled and endless CDNs, huge bodies, the key echoed back,
 * odd request ids; and a Redis that accepts connections and never answers. Everything runs
 * through the built CLI. Download limits are set small through settings the CLI reads:
 * FALAI_DOWNLOAD_IDLE_TIMEOUT (a duration) and FALAI_DOWNLOAD_MAX_BYTES (bytes).
 */

const ENDPOINT = 'fal-ai/nano-banana-pro';
const MiB = 1024 * 1024;
/** Raw control characters and terminal escapes: none may reach a terminal. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** ANSI escapes, a bell, a carriage return that overwrites the line, a NUL. */
const ESCAPES = '\u001b[2J\u001b[31mRED\u001b[0m\u0007\rOVERWRITTEN\u0000\u009b31m';

let fal: HostileFal | undefined;
const extra: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await fal?.close();
  fal = undefined;
  for (const server of extra.splice(0)) await server.close();
});

/** What must never be printed: the key, its secret, its id past the masked prefix, encoded. */
function needles(): string[] {
  const { falKey } = suite();
  const [id = '', secret = ''] = falKey.split(':');
  return [falKey, secret, id.slice(6), encodeURIComponent(falKey)];
}

/** No key, no raw control character, no stack trace in anything the command printed. */
function expectClean(run: CliRun, context: string, debug = false): void {
  const printed = `${run.stdout}\n${run.stderr}`;
  for (const needle of needles())
    expect(printed.includes(needle), `${context}: printed the key (or part of it)`).toBe(false);
  expect(printed, `${context}: printed a raw control character`).not.toMatch(CONTROL);
  // FALAI_DEBUG=1 prints stack traces on purpose.
  if (!debug)
    expect(printed, `${context}: printed a stack trace`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

/** A folder of this test inside the run folder. */
function folder(name: string): string {
  return workDir(join('hostile', name));
}

async function hostile(options: HostileOptions = {}): Promise<HostileFal> {
  fal = await startHostileFal(options);
  return fal;
}

/** Runs the built CLI against the hostile server with a file store of the test's own. */
async function falai(
  name: string,
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CliRun> {
  const run = await runCli(args, {
    env: cliEnv({
      FALAI_BASE_URL: fal?.origin,
      FALAI_STORE: storeSpec('file', `hostile-${name}`),
      ...options.env,
    }),
    timeoutMs: options.timeoutMs ?? 60_000,
    cwd: folder(name),
  });
  const context = `${name}: falai ${args.join(' ').slice(0, 200)}`;
  expect(run.code, `${context}: killed, the command hung`).not.toBe(128);
  expectClean(run, context, options.env?.FALAI_DEBUG === '1');
  return run;
}

/** The error a `--json` run ended with, after checking that the exit status matches it. */
function jsonError(
  run: CliRun,
  context: string,
): { code: string; message: string; details?: Record<string, unknown> } {
  let parsed: {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
  };
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    throw new Error(
      `${context}: stdout is not JSON (exit ${run.code}): ${run.stdout.slice(0, 500)}\n${run.stderr.slice(0, 500)}`,
    );
  }
  const code = parsed.error?.code ?? '(no error)';
  expect(run.code, `${context}: exit ${run.code} for ${code}: ${run.stdout.slice(0, 500)}`).toBe(
    EXIT_CODES[code as keyof typeof EXIT_CODES] ?? -1,
  );
  return {
    code,
    message: parsed.error?.message ?? '',
    ...(parsed.error?.details ? { details: parsed.error.details } : {}),
  };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** The request records of a test's store, as `list --all --json` shows them. */
async function records(name: string): Promise<{ requestId: string; status: string }[]> {
  const run = await falai(name, ['list', '--all', '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout).requests;
}

const runArgs = (out: string, ...more: string[]) => [
  'run',
  ENDPOINT,
  '--set',
  'prompt=a lighthouse',
  '--out',
  out,
  ...more,
];

/**
 * The served PNG, as falai saves it: the same signature, header and image data, with falai's
 * provenance written into it as text chunks (so the bytes are not equal to what fal served).
 */
function samePng(saved: Buffer): boolean {
  const idat = PNG.indexOf('IDAT');
  return (
    saved.subarray(0, 33).equals(PNG.subarray(0, 33)) &&
    idat > 0 &&
    saved.includes(PNG.subarray(idat - 4, Math.min(PNG.length, idat + 4096)))
  );
}

describe('a hostile fal server', () => {
  it('its honest mode is enough for falai run (so every failure below is the lie)', async () => {
    await hostile();
    const out = join(folder('honest'), 'out');
    const run = await falai('honest', [...runArgs(out), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const files = filesUnder(out);
    expect(files).toHaveLength(1);
    expect(samePng(readFileSync(join(out, files[0] as string)))).toBe(true);
  });

  it('keeps outputs in the output folder whatever file_name says, named from their bytes', async () => {
    const base = folder('traversal');
    const out = join(base, 'a', 'b', 'out');
    const absolute = join(base, 'absolute-target', 'evil.png');
    await hostile({
      on: {
        result: (_req, res, ctx) =>
          json(res, 200, {
            images: [
              { url: `${ctx.origin}/cdn/1`, file_name: '../../etc/x', content_type: 'image/png' },
              { url: `${ctx.origin}/cdn/2`, file_name: '../../../escaped.png' },
              { url: `${ctx.origin}/cdn/3`, file_name: absolute, content_type: 'image/png' },
              { url: `${ctx.origin}/cdn/4`, file_name: 'evil.sh', content_type: 'text/x-sh' },
              { url: `${ctx.origin}/cdn/..%2F..%2Fx.png`, file_name: '..' },
            ],
          }),
      },
    });
    const run = await falai('traversal', [...runArgs(out), '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Nothing outside `out`: the only files under the test folder are the store's and the
    // five outputs, all directly in `out`, each named .png (its bytes are a PNG).
    const saved = filesUnder(base);
    expect(
      saved.every((file) => file.startsWith(`a${sep}b${sep}out${sep}`)),
      saved.join(', '),
    ).toBe(true);
    const outputs = filesUnder(out);
    expect(outputs, outputs.join(', ')).toHaveLength(5);
    for (const file of outputs) {
      expect(file, 'a subfolder or a name from fal').not.toContain(sep);
      expect(file).toMatch(/\.png$/);
      expect(samePng(readFileSync(join(out, file)))).toBe(true);
    }
    expect(existsSync(absolute)).toBe(false);
    expect(existsSync(join(base, 'escaped.png'))).toBe(false);
    expect(existsSync(join(base, 'a', 'etc'))).toBe(false);
  });

  it('treats a 200 that is not JSON (a proxy page) as an API_ERROR, never as a result', async () => {
    const id = randomUUID();
    await hostile({ on: { status: (_req, res) => html(res), result: (_req, res) => html(res) } });
    for (const command of ['status', 'result']) {
      const run = await falai('html', [command, ENDPOINT, id, '--json']);
      const error = jsonError(run, `html ${command}`);
      expect(error.code).toBe('API_ERROR');
      expect(error.message).toMatch(/not JSON/);
    }
    // Through run: the wait ends (stream), the result is the page: the request stays pending.
    const out = join(folder('html'), 'out');
    const run = await falai('html', [...runArgs(out), '--json']);
    expect(jsonError(run, 'html run').code).toBe('API_ERROR');
    expect(filesUnder(out)).toEqual([]);
    const stored = await records('html');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.status).not.toBe('completed');
    const human = await falai('html', ['result', ENDPOINT, id]);
    expect(human.code).toBe(EXIT_CODES.API_ERROR);
    expect(human.stderr).toMatch(/^Error: .*not JSON/m);
  });

  it('does not follow a redirect to another host (the answer would not be fal’s)', async () => {
    const other = await startHostileFal({ host: '127.0.0.2' });
    extra.push(other);
    const away = (req: { url?: string | undefined }, res: Parameters<typeof redirect>[0]) =>
      redirect(res, `${other.origin}${req.url ?? '/'}`);
    await hostile({ on: { status: away, result: away, stream: away } });
    const id = randomUUID();
    for (const command of ['status', 'result']) {
      const run = await falai('redirect', [command, ENDPOINT, id, '--json']);
      const error = jsonError(run, `redirect ${command}`);
      expect(error.code).toBe('API_ERROR');
      expect(error.message).toMatch(/redirect/i);
    }
    const out = join(folder('redirect'), 'out');
    const run = await falai('redirect', [...runArgs(out), '--json']);
    expect(jsonError(run, 'redirect run').code).toBe('API_ERROR');
    // The other host never heard from falai, so the key never went there either.
    expect(other.seen).toEqual([]);
  });

  const stalled = () =>
    hostile({
      on: {
        file: (_req, res) =>
          stall(
            res,
            { 'content-type': 'image/png', 'content-length': PNG.length },
            PNG.subarray(0, 100),
          ),
      },
    });

  it('stops a download from a CDN that stalls after the headers at --timeout, no .part left', async () => {
    await stalled();
    // --timeout covers the whole command, the download included (the idle default is long).
    const out = join(folder('stall-timeout'), 'out');
    const run = await falai('stall-timeout', [...runArgs(out), '--timeout', '4s', '--json'], {
      timeoutMs: 45_000,
    });
    const error = jsonError(run, 'stall (--timeout)');
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('falai download');
    expect(filesUnder(out)).toEqual([]);
  });

  it('fails a download from a stalled CDN after the idle timeout, no .part left', async () => {
    await stalled();
    const out = join(folder('stall-idle'), 'out');
    const run = await falai('stall-idle', [...runArgs(out), '--json'], {
      env: { FALAI_DOWNLOAD_IDLE_TIMEOUT: '1s' },
      timeoutMs: 30_000,
    });
    const error = jsonError(run, 'stall (idle timeout)');
    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.message).toMatch(/stalled/);
    expect(error.message).toContain('falai download');
    expect(error.details?.idleTimeoutMs).toBe(1000);
    expect(filesUnder(out)).toEqual([]);
  });

  /** A PNG that never ends (the server gives up after 64 MiB, so no client fills its disk). */
  const endless = (headers: Record<string, string> = {}) =>
    hostile({
      on: {
        file: (_req, res) =>
          stream(
            res,
            { 'content-type': 'image/png', ...headers },
            {
              head: PNG.subarray(0, 64),
              fill: Buffer.alloc(64 * 1024, 7),
              limit: 64 * MiB,
              cut: true,
            },
          ),
      },
    });

  it('stops an endless CDN at the download size cap, no .part left', async () => {
    await endless();
    const out = join(folder('endless'), 'out');
    const run = await falai('endless', [...runArgs(out), '--json'], {
      env: { FALAI_DOWNLOAD_MAX_BYTES: String(MiB) },
      timeoutMs: 30_000,
    });
    const error = jsonError(run, 'endless CDN');
    expect(error.code).toBe('MEDIA_INVALID');
    expect(error.message).toMatch(/larger than the download size cap/);
    expect(error.details?.maxBytes).toBe(MiB);
    expect(filesUnder(out)).toEqual([]);
  });

  it('refuses a file announced larger than the default cap before reading it', async () => {
    await endless({ 'content-length': String(10 * 1024 ** 3) });
    const out = join(folder('announced'), 'out');
    const run = await falai('announced', [...runArgs(out), '--json']);
    const error = jsonError(run, 'announced 10 GiB');
    expect(error.code).toBe('MEDIA_INVALID');
    expect(error.message).toMatch(/larger than the download size cap/);
    expect(error.details?.size).toBe(10 * 1024 ** 3);
    expect(filesUnder(out)).toEqual([]);
  });

  it('refuses a 110 MB result and a 5 MB status at their caps instead of reading them', async () => {
    const huge =
      (size: number, head: string) => (_req: unknown, res: Parameters<typeof stream>[0]) =>
        stream(
          res,
          { 'content-type': 'application/json' },
          {
            head,
            fill: Buffer.alloc(MiB, 'a'),
            limit: size,
            tail: '"}',
          },
        );
    await hostile({
      on: {
        result: huge(110 * MiB, '{"images":[],"padding":"'),
        status: huge(5 * MiB, '{"status":"COMPLETED","padding":"'),
      },
    });
    const id = randomUUID();
    for (const command of ['result', 'status']) {
      const run = await falai('huge', [command, ENDPOINT, id, '--json']);
      const error = jsonError(run, `huge ${command}`);
      expect(error.code).toBe('API_ERROR');
      expect(error.message).toMatch(/larger than the .* cap/);
    }
  });

  it('never prints or stores the key that fal echoes in logs, results and errors', async () => {
    const echo = (ctx: Ctx) => ({
      header: ctx.authorization,
      key: ctx.authorization.replace(/^Key /, ''),
      encoded: encodeURIComponent(ctx.authorization.replace(/^Key /, '')),
    });
    const logs = (ctx: Ctx) =>
      Object.values(echo(ctx)).map((text) => ({
        message: `authorised with ${text}`,
        level: 'INFO',
        source: 'USER',
        timestamp: new Date().toISOString(),
      }));
    await hostile({
      on: {
        stream: (_req, res, ctx) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(
            `data: ${JSON.stringify(statusBody(ctx, 'IN_PROGRESS', { logs: logs(ctx) }))}\n\n`,
          );
          res.end(`data: ${JSON.stringify(statusBody(ctx, 'COMPLETED', { logs: logs(ctx) }))}\n\n`);
        },
        status: (_req, res, ctx) =>
          json(res, 200, statusBody(ctx, 'COMPLETED', { logs: logs(ctx) })),
        result: (_req, res, ctx) =>
          json(res, 200, pngResult(ctx, { debug: echo(ctx), prompt: echo(ctx).key })),
      },
    });
    const out = join(folder('echo'), 'out');
    const human = await falai('echo', [...runArgs(out), '--logs']);
    expect(human.code, human.stderr).toBe(0);
    const printed = await falai('echo', [...runArgs(out), '--no-download', '--json']);
    expect(printed.code, printed.stderr).toBe(0);
    const id = JSON.parse(printed.stdout).requestId as string;
    for (const args of [
      ['result', ENDPOINT, id, '--json'],
      ['status', ENDPOINT, id, '--logs', '--json'],
      ['wait', id, '--json'],
      ['list', '--all', '--json'],
    ]) {
      await falai('echo', args);
    }
    // Errors that quote what fal said, with the key in it.
    await fal?.close();
    await hostile({
      on: {
        submit: (_req, res, ctx) =>
          json(res, 400, { detail: `Invalid key ${echo(ctx).header} (${echo(ctx).encoded})` }),
      },
    });
    for (const json_ of [true, false]) {
      const run = await falai('echo', [
        'submit',
        ENDPOINT,
        '--set',
        'prompt=x',
        ...(json_ ? ['--json'] : []),
      ]);
      expect(run.code).not.toBe(0);
      const debug = await falai('echo', ['submit', ENDPOINT, '--set', 'prompt=x'], {
        env: { FALAI_DEBUG: '1' },
      });
      expect(debug.code).not.toBe(0);
    }
    await fal?.close();
    await hostile({
      on: {
        status: (_req, res, ctx) =>
          json(res, 200, statusBody(ctx, 'COMPLETED', { error: `failed for ${echo(ctx).header}` })),
        result: (_req, res, ctx) =>
          json(res, 422, {
            detail: [
              { loc: ['body', 'prompt'], msg: `key ${echo(ctx).key} refused`, type: 'value_error' },
            ],
          }),
      },
    });
    const failed = await falai('echo', [...runArgs(out), '--json']);
    expect(failed.code).not.toBe(0);
    const failedHuman = await falai('echo', runArgs(out));
    expect(failedHuman.code).not.toBe(0);
    // The store holds no part of the key either: its snapshot and its journals (where the
    // file store appends most writes).
    const path = storeSpec('file', 'hostile-echo').slice('file:'.length);
    const journals = readdirSync(dirname(path)).filter(
      (name) => name.startsWith(`${basename(path)}.`) && name.endsWith('.journal'),
    );
    for (const file of [path, ...journals.map((name) => join(dirname(path), name))]) {
      const text = readFileSync(file, 'utf8');
      for (const needle of needles()) expect(text.includes(needle), file).toBe(false);
    }
  });

  it('strips terminal escapes and control characters that fal sends before printing them', async () => {
    const logs = [
      {
        message: `log ${ESCAPES}`,
        level: 'INFO',
        source: 'USER',
        timestamp: new Date().toISOString(),
      },
    ];
    await hostile({
      on: {
        stream: (_req, res, ctx) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(`data: ${JSON.stringify(statusBody(ctx, 'IN_PROGRESS', { logs }))}\n\n`);
          res.end(
            `data: ${JSON.stringify(statusBody(ctx, 'COMPLETED', { logs, error: `boom ${ESCAPES}`, error_type: `x${ESCAPES}` }))}\n\n`,
          );
        },
        status: (_req, res, ctx) =>
          json(res, 200, statusBody(ctx, 'COMPLETED', { logs, error: `boom ${ESCAPES}` })),
        result: (_req, res) => json(res, 422, { detail: `server said ${ESCAPES}` }),
      },
    });
    const out = join(folder('escapes'), 'out');
    // expectClean (inside falai) checks every stream of every run for raw control characters.
    const run = await falai('escapes', [...runArgs(out), '--logs']);
    expect(run.code).not.toBe(0);
    // The text itself is shown, without its escapes.
    expect(`${run.stdout}${run.stderr}`).toContain('RED');
    const id = fal?.requestId ?? '';
    await falai('escapes', ['status', ENDPOINT, id, '--logs']);
    await falai('escapes', ['result', ENDPOINT, id]);
  });

  describe('odd request ids from fal never reach a URL, a file name or the store', () => {
    const ids: [string, string][] = [
      ['dot-dot', '..'],
      ['dot-dot-slash', '../x'],
      ['dot', '.'],
      ['slash', 'a/b'],
      ['encoded-dot-dot', '%2e%2e'],
      ['query', 'x?y=1#z'],
      ['escapes', `id${ESCAPES}`],
      ['10 KB', `a${'b'.repeat(10 * 1024)}`],
    ];
    for (const [label, id] of ids) {
      it(`request_id ${label}`, async () => {
        const name = `id-${label.replace(/\W+/g, '-')}`;
        await hostile({ requestId: id });
        const out = join(folder(name), 'out');
        mkdirSync(out, { recursive: true });
        const run = await falai(name, [...runArgs(out), '--json']);
        const error = jsonError(run, `request_id ${label}`);
        expect(error.code).toBe('API_ERROR');
        expect(error.message.length, 'the whole id was echoed').toBeLessThan(1000);
        const human = await falai(name, runArgs(out));
        expect(human.code).toBe(EXIT_CODES.API_ERROR);
        expect(human.stderr.length).toBeLessThan(2000);
        // Only the submits reached fal: no status, result or stray URL was built from the id.
        expect(
          fal?.seen.filter((seen) => seen.kind !== 'submit' && seen.kind !== 'platform'),
        ).toEqual([]);
        expect(filesUnder(out)).toEqual([]);
        expect((await records(name)).map((record) => record.requestId)).not.toContain(id);
      });
    }
  });
});

describe('a Redis that never answers', () => {
  it('list and submit end with STORE_ERROR instead of hanging, and nothing is submitted', async () => {
    const silent = await startSilentServer();
    extra.push(silent);
    const redis = `redis://127.0.0.1:${silent.port}`;
    await hostile();
    for (const json_ of [true, false]) {
      const run = await falai('silent-redis', ['list', ...(json_ ? ['--json'] : [])], {
        env: { FALAI_STORE: redis },
        timeoutMs: 30_000,
      });
      expect(run.code, run.stdout + run.stderr).toBe(EXIT_CODES.STORE_ERROR);
      if (json_) {
        const error = jsonError(run, 'silent redis list');
        expect(error.code).toBe('STORE_ERROR');
        expect(error.message).toContain(redis);
      } else expect(run.stderr).toMatch(new RegExp(`^Error: .*${redis}`, 'm'));
    }
    const submit = await falai(
      'silent-redis',
      ['submit', ENDPOINT, '--set', 'prompt=x', '--json'],
      {
        env: { FALAI_STORE: redis },
        timeoutMs: 30_000,
      },
    );
    expect(jsonError(submit, 'silent redis submit').code).toBe('STORE_ERROR');
    expect(silent.connections()).toBeGreaterThan(0);
    expect(fal?.seen.filter((seen) => seen.kind === 'submit')).toEqual([]);
  });
});
