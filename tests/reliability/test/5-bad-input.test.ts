import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { FalaiErrorCode } from '@falai/core';
import { newPendingRecord } from '@falai/core/internal';
import type { Emulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../../apps/cli/src/exit-codes.js';
import { cliEnv, keepEmulatorLog, openSpec, runCli, startFal, suite, workDir } from './helpers.js';

const IMG = 'fal-ai/nano-banana-pro';
const EDIT = 'fal-ai/nano-banana-pro/edit';
const FLUX = 'fal-ai/flux/dev/image-to-image';
const KLING = 'fal-ai/kling-video/o3/standard/video-to-video/edit';
const LOCKED_KEY = 'locked-key-id:locked-key-secret-7f3a9c';

/**
 * One bad input: the command line, and optionally stdin, env and the store it runs against,
 * with the error it must end in.
 */
interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly stdin?: string;
  readonly env?: Record<string, string | undefined>;
  /** A store of its own (a broken one); the default is the shared, healthy file store. */
  readonly store?: string;
  /** The error code (`--json`), which also fixes the exit status (human mode). */
  readonly code: FalaiErrorCode;
  /** What the message must say: a substring, or a pattern (`.` stops at a line break). */
  readonly message: string | RegExp;
}

let dir = '';
let emulator: Emulator;
let mainStore = '';
const media = (name: string) => join(dir, 'media', name);
const set = (field: string, value: string) => ['--set', `${field}=${value}`];

/** The corpus: malformed JSON, wrong types, missing fields, unknown models, bad media, etc. */
function corpus(): Case[] {
  const submit = (endpoint: string, input: string, ...rest: string[]): string[] => [
    'submit',
    endpoint,
    input,
    ...rest,
  ];
  const edit = (path: string) => submit(EDIT, JSON.stringify({ prompt: 'x', image_urls: [path] }));
  const kling = (path: string) => submit(KLING, JSON.stringify({ prompt: 'x', video_url: path }));
  const badJson = 'Invalid JSON in the input argument';
  const notObject = 'The input in the input argument must be a JSON object';
  const INPUT = 'INPUT_INVALID';
  return [
    // Malformed JSON
    { name: 'json: cut short', args: submit(IMG, '{"prompt":'), code: INPUT, message: badJson },
    {
      name: 'json: unquoted key',
      args: submit(IMG, '{prompt: "x"}'),
      code: INPUT,
      message: badJson,
    },
    {
      name: 'json: trailing comma',
      args: submit(IMG, '{"prompt": "x",}'),
      code: INPUT,
      message: badJson,
    },
    { name: 'json: unclosed array', args: submit(IMG, '[1, 2'), code: INPUT, message: badJson },
    { name: 'json: lone brace', args: submit(IMG, '}'), code: INPUT, message: badJson },
    {
      name: 'json: trailing garbage',
      args: submit(IMG, '{"prompt": "x"} trailing'),
      code: INPUT,
      message: `${badJson}: Unexpected non-whitespace character after JSON`,
    },
    { name: 'json: single quote', args: submit(IMG, "'"), code: INPUT, message: badJson },
    // An empty argument is no input at all: the model's required field is what is missing.
    {
      name: 'json: empty argument',
      args: submit(IMG, ''),
      code: INPUT,
      message: 'Missing required field: prompt',
    },
    {
      name: 'json: @file missing',
      args: submit(IMG, `@${join(dir, 'nope.json')}`),
      code: INPUT,
      message: `Cannot read input file ${join(dir, 'nope.json')}: not found`,
    },
    {
      name: 'json: @file broken',
      args: submit(IMG, `@${media('broken.json')}`),
      code: INPUT,
      message: `Invalid JSON in ${media('broken.json')}`,
    },
    {
      name: 'json: @file binary',
      args: submit(IMG, `@${media('binary.json')}`),
      code: INPUT,
      message: `Invalid JSON in ${media('binary.json')}`,
    },
    {
      name: 'json: stdin broken',
      args: submit(IMG, '-'),
      stdin: '{"prompt"',
      code: INPUT,
      message: 'Invalid JSON in stdin',
    },
    {
      name: 'json: stdin empty',
      args: submit(IMG, '-'),
      stdin: '',
      code: INPUT,
      message: 'Invalid JSON in stdin',
    },
    {
      name: 'set: no equals sign',
      args: ['submit', IMG, '--set', 'prompt'],
      code: INPUT,
      message: '--set needs key=value, got "prompt"',
    },
    {
      name: 'set: empty key',
      args: ['submit', IMG, '--set', '=x'],
      code: INPUT,
      message: '--set needs key=value, got "=x"',
    },
    // Wrong types and values
    {
      name: 'type: prompt number',
      args: submit(IMG, '{"prompt": 5}'),
      code: INPUT,
      message: 'prompt must be a string; got number 5',
    },
    {
      name: 'type: prompt null',
      args: submit(IMG, '{"prompt": null}'),
      code: INPUT,
      message: 'Missing required field: prompt',
    },
    {
      name: 'type: prompt array',
      args: submit(IMG, '{"prompt": ["a"]}'),
      code: INPUT,
      message: 'prompt must be a string; got a list',
    },
    {
      name: 'type: num_images text',
      args: submit(IMG, '{"prompt":"x","num_images":"two"}'),
      code: INPUT,
      message: 'num_images must be an integer; got string "two"',
    },
    {
      name: 'type: num_images fraction',
      args: submit(IMG, '{"prompt":"x","num_images":2.5}'),
      code: INPUT,
      message: 'num_images must be a whole number; got number 2.5',
    },
    {
      name: 'range: num_images 0',
      args: submit(IMG, '{"prompt":"x","num_images":0}'),
      code: INPUT,
      message: 'num_images must be between 1 and 4; got number 0',
    },
    {
      name: 'type: prompt object',
      args: submit(IMG, '{"prompt": {"a": 1}}'),
      code: INPUT,
      message: 'prompt must be a string; got an object',
    },
    {
      name: 'enum: aspect_ratio',
      args: submit(IMG, '{"prompt":"x","aspect_ratio":"7:7"}'),
      code: INPUT,
      message: /aspect_ratio must be one of "auto", .*; got string "7:7"/,
    },
    {
      name: 'enum: output_format',
      args: submit(IMG, '{"prompt":"x","output_format":"gif"}'),
      code: INPUT,
      message: 'output_format must be one of "jpeg", "png", "webp"; got string "gif"',
    },
    {
      name: 'type: resolution boolean',
      args: submit(IMG, '{"prompt":"x","resolution":true}'),
      code: INPUT,
      message: 'resolution must be one of "1K", "2K", "4K"; got boolean true',
    },
    { name: 'type: top-level array', args: submit(IMG, '[]'), code: INPUT, message: notObject },
    {
      name: 'type: top-level string',
      args: submit(IMG, '"a string"'),
      code: INPUT,
      message: notObject,
    },
    { name: 'type: top-level number', args: submit(IMG, '42'), code: INPUT, message: notObject },
    {
      name: 'type: --set num_images=abc',
      args: ['submit', IMG, ...set('prompt', 'x'), ...set('num_images', 'abc')],
      code: INPUT,
      message: 'num_images must be an integer; got string "abc"',
    },
    // Missing fields
    {
      name: 'missing: everything',
      args: submit(IMG, '{}'),
      code: INPUT,
      message: 'Missing required field: prompt',
    },
    {
      name: 'missing: prompt',
      args: submit(IMG, '{"num_images":1}'),
      code: INPUT,
      message: 'Missing required field: prompt',
    },
    {
      name: 'missing: image_urls',
      args: submit(EDIT, '{"prompt":"x"}'),
      code: INPUT,
      message: 'Missing required field: image_urls',
    },
    {
      name: 'missing: image_url (flux)',
      args: submit(FLUX, '{"prompt":"x"}'),
      code: INPUT,
      message: 'Missing required field: image_url (',
    },
    {
      name: 'missing: video_url (kling)',
      args: submit(KLING, '{"prompt":"x"}'),
      code: INPUT,
      message: 'Missing required field: video_url',
    },
    {
      name: 'missing: empty image_urls',
      args: submit(EDIT, '{"prompt":"x","image_urls":[]}'),
      code: INPUT,
      message: 'Empty required field: image_urls',
    },
    // Unknown models and bad endpoint ids
    {
      name: 'type: image_urls a number',
      args: submit(EDIT, '{"prompt":"x","image_urls":5}'),
      code: INPUT,
      message: 'image_urls must be a list of images',
    },
    {
      name: 'model: unknown with --strict',
      args: submit('fal-ai/does-not-exist', '{"prompt":"x"}', '--strict'),
      code: 'MODEL_UNKNOWN',
      // The CLI asks fal's catalogue (the emulator's Platform API) about ids it has no file for.
      message: "Unknown model fal-ai/does-not-exist: fal's catalogue does not list it",
    },
    {
      name: 'model: model-info unknown',
      args: ['model-info', 'fal-ai/nope'],
      code: 'MODEL_UNKNOWN',
      message: 'Unknown model fal-ai/nope',
    },
    {
      name: 'endpoint: spaces',
      args: submit('not a model', '{}'),
      code: INPUT,
      message: 'Invalid endpoint id "not a model"',
    },
    {
      name: 'endpoint: path traversal',
      args: submit('../../etc/passwd', '{}'),
      code: INPUT,
      message: 'Invalid endpoint id "../../etc/passwd": it contains "." or ".." segments',
    },
    {
      name: 'endpoint: trailing slash only',
      args: submit('fal-ai/', '{}'),
      code: INPUT,
      message: 'Invalid endpoint id "fal-ai/"',
    },
    {
      name: 'endpoint: empty',
      args: submit('', '{}'),
      code: INPUT,
      message: 'Invalid endpoint id "": it is empty',
    },
    {
      name: 'endpoint: a URL',
      args: submit('https://evil.example/x', '{}'),
      code: INPUT,
      message: 'Invalid endpoint id "https://evil.example/x": pass the id, not a URL',
    },
    // Oversized and truncated media
    {
      name: 'media: truncated png',
      args: edit(media('truncated.png')),
      code: INPUT,
      message: `${media('truncated.png')} is truncated or damaged`,
    },
    {
      name: 'media: empty png',
      args: edit(media('empty.png')),
      code: INPUT,
      message: `${media('empty.png')} is empty (0 bytes)`,
    },
    {
      name: 'media: truncated mp4 (head)',
      args: kling(media('truncated-head.mp4')),
      code: INPUT,
      message: `${media('truncated-head.mp4')} is truncated`,
    },
    {
      name: 'media: truncated mp4 (half)',
      args: kling(media('truncated-half.mp4')),
      code: INPUT,
      message: `${media('truncated-half.mp4')} is truncated`,
    },
    {
      name: 'media: video too short',
      args: kling(media('short-2s.mp4')),
      code: INPUT,
      message: 'the video is 2 s long; it must be 3–15 s',
    },
    {
      name: 'media: video too small',
      args: kling(media('small-640x360.mp4')),
      code: INPUT,
      message: 'the video is 640×360 px',
    },
    {
      name: 'media: oversized data URI',
      args: ['to-data-uri', media('huge.png')],
      code: 'MEDIA_INVALID',
      message: 'is 201.0 MB; data URIs are limited to 200.0 MB. Upload the file',
    },
    {
      name: 'media: oversized forced data-uri submit',
      args: [...edit(media('huge.png')), '--upload-mode', 'data-uri'],
      code: INPUT,
      message: `${media('huge.png')} is 201.0 MB; at most 200.0 MB allowed`,
    },
    {
      name: 'media: to-data-uri of a folder',
      args: ['to-data-uri', join(dir, 'media')],
      code: 'MEDIA_INVALID',
      message: `Not a regular file: ${join(dir, 'media')}`,
    },
    {
      name: 'media: to-data-uri missing',
      args: ['to-data-uri', media('missing.png')],
      code: 'MEDIA_INVALID',
      message: `File not found: ${media('missing.png')}`,
    },
    {
      name: 'media: video-to-uri truncated',
      args: ['video-to-uri', media('truncated-head.mp4')],
      code: 'MEDIA_INVALID',
      message: `${media('truncated-head.mp4')} is truncated`,
    },
    // Wrong formats
    {
      name: 'format: text named .png',
      args: edit(media('text.png')),
      code: INPUT,
      message: `${media('text.png')} is not an image; its content is text/plain`,
    },
    {
      name: 'format: video for an image',
      args: edit(media('short-2s.mp4')),
      code: INPUT,
      message: `${media('short-2s.mp4')} is not an image; its content is video/mp4`,
    },
    {
      name: 'format: image for a video',
      args: kling(media('image.png')),
      code: INPUT,
      message: `${media('image.png')} is not a video; its content is image/png`,
    },
    {
      name: 'format: pdf for an image',
      args: edit(media('doc.pdf')),
      code: INPUT,
      message: `${media('doc.pdf')} is not an image; its content is application/pdf`,
    },
    {
      name: 'format: mp4 named .mov for kling',
      args: kling(media('text.mp4')),
      code: INPUT,
      message: `${media('text.mp4')} is not a video; its content is text/plain`,
    },
    // Hostile file names
    {
      name: 'name: path traversal',
      args: edit('../../../../../../etc/shadow'),
      code: INPUT,
      message: 'image_urls[0]: ../../../../../../etc/shadow',
    },
    {
      name: 'name: newline',
      args: edit('bad\nname.png'),
      code: INPUT,
      message: 'image_urls[0]: file not found: bad',
    },
    {
      name: 'name: command substitution',
      args: edit('$(touch pwned).png'),
      code: INPUT,
      message: 'file not found: $(touch pwned).png',
    },
    {
      name: 'name: shell metacharacters',
      args: edit('; rm -rf ~ #.png'),
      code: INPUT,
      message: 'file not found: ; rm -rf ~ #.png',
    },
    {
      name: 'name: 300 characters',
      args: edit(`${'a'.repeat(300)}.png`),
      code: INPUT,
      message: /image_urls\[0\]: .*name too long/i,
    },
    {
      name: 'name: right-to-left override',
      args: edit('photo\u202egnp.exe'),
      code: INPUT,
      message: 'image_urls[0]: file not found: photo',
    },
    {
      name: 'name: /dev/zero',
      args: edit('/dev/zero'),
      code: INPUT,
      message: '/dev/zero is not a regular file',
    },
    {
      name: 'name: file:// URL',
      args: edit('file:///etc/passwd'),
      code: INPUT,
      message: 'image_urls[0]: /etc/passwd is not an image',
    },
    // Broken stores
    {
      name: 'store: garbage file',
      args: ['list'],
      store: `file:${media('garbage-store.json')}`,
      code: 'STORE_CORRUPT',
      message: `The file store at ${media('garbage-store.json')} holds damaged data: not valid JSON`,
    },
    {
      name: 'store: truncated file',
      args: ['list'],
      store: `file:${media('truncated-store.json')}`,
      code: 'STORE_CORRUPT',
      message: /truncated-store\.json.* holds damaged data: not valid JSON/,
    },
    {
      name: 'store: invalid record',
      args: ['list', '--all'],
      store: `file:${media('invalid-record-store.json')}`,
      code: 'STORE_CORRUPT',
      message: /\(requests\[1\], request r1\) holds damaged data: status: .*"weird"/,
    },
    {
      name: 'store: not a sqlite file',
      args: ['list'],
      store: `sqlite:${media('not-sqlite.db')}`,
      code: 'STORE_CORRUPT',
      message: `The sqlite store at ${media('not-sqlite.db')} holds damaged data`,
    },
    {
      name: 'store: unknown kind',
      args: ['list'],
      store: 'bogus:thing',
      code: 'CONFIG_INVALID',
      message: 'Unsupported store "bogus:thing"',
    },
    {
      name: 'store: redis db not a number',
      args: ['list'],
      store: 'redis://127.0.0.1:6379/notanumber',
      code: 'CONFIG_INVALID',
      message: 'the database after the port must be a number (got "notanumber")',
    },
    {
      name: 'store: redis nobody listening',
      args: ['list'],
      store: 'redis://127.0.0.1:1',
      code: 'STORE_ERROR',
      message: 'The Redis store at redis://127.0.0.1:1',
    },
    // Keys
    {
      name: 'key: no colon',
      args: submit(IMG, '{"prompt":"x"}'),
      env: { FAL_KEY: 'nocolonkey' },
      code: 'AUTH_INVALID',
      message: 'is malformed: fal keys look like <key_id>:<key_secret>',
    },
    {
      name: 'key: missing',
      args: submit(IMG, '{"prompt":"x"}'),
      env: { FAL_KEY: undefined },
      code: 'AUTH_MISSING',
      message: 'No FAL_KEY found',
    },
    {
      name: 'key: locked account',
      args: submit(IMG, '{"prompt":"x"}'),
      env: { FAL_KEY: LOCKED_KEY },
      code: 'AUTH_REJECTED',
      message: 'fal rejected the API key (HTTP 403) on submit',
    },
    // Flags and references
    {
      name: 'flag: concurrency 0',
      args: ['poll', '--concurrency', '0'],
      code: 'USAGE',
      message: /--concurrency .*greater than or equal to 1 .*received: 0/,
    },
    // A flag value that does not parse is a usage error (exit 2), said on one line.
    {
      name: 'flag: timeout banana',
      args: ['poll', '--watch', '--timeout', 'banana'],
      code: 'USAGE',
      message: /--timeout.*"banana" is not a duration/,
    },
    {
      name: 'flag: unknown',
      args: ['submit', IMG, '{"prompt":"x"}', '--bogus-flag'],
      code: 'USAGE',
      message: 'Nonexistent flag: --bogus-flag',
    },
    {
      name: 'ref: status of an unknown id',
      args: ['status', 'no-such-request'],
      code: INPUT,
      message: 'Request no-such-request is not in the store',
    },
    {
      name: 'ref: result unknown at fal',
      args: ['result', IMG, '00000000-0000-0000-0000-000000000000'],
      code: 'NOT_FOUND',
      message: 'fal found nothing (HTTP 404) on result',
    },
  ];
}

/** sha256 of every file under a folder, so "unchanged" means byte for byte. */
function fingerprint(path: string): string {
  const hash = createHash('sha256');
  const walk = (p: string) => {
    for (const entry of readdirSync(p, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = join(p, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(entry.name).update(readFileSync(full));
    }
  };
  if (existsSync(path)) walk(path);
  return hash.digest('hex');
}

function prepareMedia(): void {
  const m = join(dir, 'media');
  mkdirSync(m, { recursive: true });
  const fixtures = join(suite().repoRoot, 'packages/core/test/fixtures/media');
  const png = readFileSync(join(fixtures, 'image-800x600.png'));
  writeFileSync(join(m, 'image.png'), png);
  writeFileSync(join(m, 'truncated.png'), png.subarray(0, 20));
  writeFileSync(join(m, 'empty.png'), '');
  writeFileSync(join(m, 'text.png'), 'this is plain text, not an image\n');
  writeFileSync(
    join(m, 'doc.pdf'),
    '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n',
  );
  writeFileSync(join(m, 'broken.json'), '{"prompt": "x"');
  writeFileSync(join(m, 'binary.json'), Buffer.from([0, 159, 146, 150, 255, 0, 1, 2, 3]));
  copyFileSync(join(fixtures, 'truncated-head.mp4'), join(m, 'truncated-head.mp4'));
  copyFileSync(join(fixtures, 'truncated-half.mp4'), join(m, 'truncated-half.mp4'));
  copyFileSync(join(fixtures, 'short-1280x720-2s.mp4'), join(m, 'short-2s.mp4'));
  copyFileSync(join(fixtures, 'small-640x360-4s.mp4'), join(m, 'small-640x360.mp4'));
  copyFileSync(join(fixtures, 'text-named.mp4'), join(m, 'text.mp4'));
  // 201 MiB, sparse, starting with a real PNG: over the 200 MiB data URI limit.
  const fd = openSync(join(m, 'huge.png'), 'w');
  writeSync(fd, png);
  writeSync(fd, Buffer.from([0]), 0, 1, 201 * 1024 * 1024);
  closeSync(fd);
  writeFileSync(join(m, 'garbage-store.json'), 'garbage{ this is not JSON');
  // Stores in today's format: one cut short, one with a record whose status is unknown.
  const good = newPendingRecord({ requestId: 'r0', endpointId: IMG });
  const stored = `{"version":2,"requests":[\n${JSON.stringify(good)},\n${JSON.stringify({ ...good, requestId: 'r1', status: 'weird' })}\n]}\n`;
  writeFileSync(join(m, 'truncated-store.json'), stored.slice(0, Math.floor(stored.length / 2)));
  writeFileSync(join(m, 'invalid-record-store.json'), stored);
  writeFileSync(
    join(m, 'not-sqlite.db'),
    'SQLite format 2\u0000 but not really a database file at all',
  );
}

beforeAll(async () => {
  dir = workDir('bad-input');
  prepareMedia();
  emulator = await startFal({ keys: { accept: 'any', locked: [LOCKED_KEY] } });
  mainStore = join(dir, 'store', 'pending.json');
  const store = await openSpec(`file:${mainStore}`);
  for (let i = 0; i < 3; i++) {
    await store.put(newPendingRecord({ requestId: `kept-${i}`, endpointId: IMG }));
  }
  await store.close();
});

afterAll(async () => {
  if (emulator) {
    keepEmulatorLog(emulator, 'bad-input');
    await emulator.close();
  }
});

describe('bad input gets a clear error, a non-zero exit and leaves the store alone', () => {
  it('has a corpus of at least 60 bad inputs', () => {
    expect(corpus().length).toBeGreaterThanOrEqual(60);
  });

  const cases = (() => {
    // The corpus needs `dir`, which beforeAll sets; build names now, arguments later.
    dir = '/placeholder';
    return corpus().map((c, index) => ({ index, name: c.name }));
  })();

  describe.concurrent('corpus', () => {
    for (const { index, name } of cases) {
      // Every case in both output modes: the code under --json, the exit status and the
      // `Error:` line in human mode.
      for (const json of [true, false])
        it(`${name}${json ? ' (--json)' : ''}`, async () => {
          const c = corpus()[index] as Case;
          const storeDir = join(dir, 'store');
          const ownStore =
            c.store?.startsWith('file:') || c.store?.startsWith('sqlite:')
              ? c.store.slice(c.store.indexOf(':') + 1)
              : undefined;
          const before = fingerprint(storeDir);
          const ownBefore = ownStore && existsSync(ownStore) ? readFileSync(ownStore) : undefined;
          const env = cliEnv({
            FALAI_BASE_URL: emulator.url,
            FALAI_STORE: c.store ?? `file:${mainStore}`,
            ...c.env,
          });
          const run = await runCli(json ? [...c.args, '--json'] : c.args, {
            env,
            input: c.stdin ?? '',
            timeoutMs: 45_000,
            cwd: dir,
          });
          const context = `${name}: exit ${run.code}\nstdout: ${run.stdout.slice(0, 800)}\nstderr: ${run.stderr.slice(0, 800)}`;
          expect(run.code, context).not.toBe(0);
          expect(run.code, `${context}\n(killed: the command hung)`).not.toBe(128);
          // No stack trace, in any stream.
          expect(`${run.stdout}\n${run.stderr}`, context).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
          expect(`${run.stdout}\n${run.stderr}`, context).not.toMatch(
            /node:internal|ERR_[A-Z_]+\b.*\n\s+at /,
          );
          let message: string;
          if (json) {
            const parsed = JSON.parse(run.stdout);
            expect(parsed.error?.code, context).toBe(c.code);
            message = String(parsed.error?.message ?? '');
          } else {
            const line = run.stderr.split('\n').find((l) => l.startsWith('Error: '));
            expect(line, context).toBeDefined();
            expect((line ?? '').length - 'Error: '.length, context).toBeGreaterThan(15);
            // The message is everything from the `Error:` line on (details may follow it).
            message = run.stderr.slice(run.stderr.indexOf('Error: ') + 'Error: '.length);
          }
          // The exit status is the one the error code maps to (README "Exit codes").
          expect(run.code, context).toBe(EXIT_CODES[c.code]);
          if (typeof c.message === 'string') expect(message, context).toContain(c.message);
          else expect(message, context).toMatch(c.message);
          expect(message, context).not.toMatch(/undefined|\[object Object\]/);
          // No raw control characters (a NUL from a binary file, a terminal escape) is printed.
          expect(`${run.stdout}${run.stderr}`, context).not.toMatch(
            /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/,
          );
          // The store is unchanged, byte for byte.
          expect(fingerprint(storeDir), `${name}: the store changed`).toBe(before);
          if (ownStore && ownBefore)
            expect(readFileSync(ownStore).equals(ownBefore), `${name}: store changed`).toBe(true);
          expect(existsSync(join(dir, 'pwned')), 'a file name was run as a command').toBe(false);
        });
    }
  });

  it('sent nothing to fal for input it rejected locally', () => {
    const accepted = emulator.log.filter((e) => e.kind === 'submit' && e.status === 200);
    expect(accepted).toEqual([]);
  });
});
