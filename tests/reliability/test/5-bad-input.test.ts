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
import { newPendingRecord } from '@falai/core';
import { type Emulator, startEmulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, keepEmulatorLog, openSpec, runCli, suite, workDir } from './helpers.js';

const IMG = 'fal-ai/nano-banana-pro';
const EDIT = 'fal-ai/nano-banana-pro/edit';
const FLUX = 'fal-ai/flux/dev/image-to-image';
const KLING = 'fal-ai/kling-video/o3/standard/video-to-video/edit';
const LOCKED_KEY = 'locked-key-id:locked-key-secret-7f3a9c';

/** One bad input: the command line, and optionally stdin, env and the store it runs against. */
interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly stdin?: string;
  readonly env?: Record<string, string | undefined>;
  /** A store of its own (a broken one); the default is the shared, healthy file store. */
  readonly store?: string;
  /** Extra check on the message (human mode) or the error JSON (json mode). */
  readonly expect?: RegExp;
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
  return [
    // Malformed JSON
    { name: 'json: cut short', args: submit(IMG, '{"prompt":'), expect: /json/i },
    { name: 'json: unquoted key', args: submit(IMG, '{prompt: "x"}'), expect: /json/i },
    { name: 'json: trailing comma', args: submit(IMG, '{"prompt": "x",}') },
    { name: 'json: unclosed array', args: submit(IMG, '[1, 2') },
    { name: 'json: lone brace', args: submit(IMG, '}') },
    { name: 'json: trailing garbage', args: submit(IMG, '{"prompt": "x"} trailing') },
    { name: 'json: single quote', args: submit(IMG, "'") },
    { name: 'json: empty argument', args: submit(IMG, '') },
    { name: 'json: @file missing', args: submit(IMG, `@${join(dir, 'nope.json')}`) },
    { name: 'json: @file broken', args: submit(IMG, `@${media('broken.json')}`) },
    { name: 'json: @file binary', args: submit(IMG, `@${media('binary.json')}`) },
    { name: 'json: stdin broken', args: submit(IMG, '-'), stdin: '{"prompt"' },
    { name: 'json: stdin empty', args: submit(IMG, '-'), stdin: '' },
    { name: 'set: no equals sign', args: ['submit', IMG, '--set', 'prompt'] },
    { name: 'set: empty key', args: ['submit', IMG, '--set', '=x'] },
    // Wrong types and values
    { name: 'type: prompt number', args: submit(IMG, '{"prompt": 5}'), expect: /prompt/ },
    { name: 'type: prompt null', args: submit(IMG, '{"prompt": null}'), expect: /prompt/ },
    { name: 'type: prompt array', args: submit(IMG, '{"prompt": ["a"]}'), expect: /prompt/ },
    {
      name: 'type: num_images text',
      args: submit(IMG, '{"prompt":"x","num_images":"two"}'),
      expect: /num_images/,
    },
    {
      name: 'type: num_images fraction',
      args: submit(IMG, '{"prompt":"x","num_images":2.5}'),
      expect: /num_images/,
    },
    {
      name: 'range: num_images 0',
      args: submit(IMG, '{"prompt":"x","num_images":0}'),
      expect: /num_images/,
    },
    { name: 'type: prompt object', args: submit(IMG, '{"prompt": {"a": 1}}'), expect: /prompt/ },
    {
      name: 'enum: aspect_ratio',
      args: submit(IMG, '{"prompt":"x","aspect_ratio":"7:7"}'),
      expect: /aspect_ratio/,
    },
    {
      name: 'enum: output_format',
      args: submit(IMG, '{"prompt":"x","output_format":"gif"}'),
      expect: /output_format/,
    },
    {
      name: 'type: resolution boolean',
      args: submit(IMG, '{"prompt":"x","resolution":true}'),
      expect: /resolution/,
    },
    { name: 'type: top-level array', args: submit(IMG, '[]') },
    { name: 'type: top-level string', args: submit(IMG, '"a string"') },
    { name: 'type: top-level number', args: submit(IMG, '42') },
    {
      name: 'type: --set num_images=abc',
      args: ['submit', IMG, ...set('prompt', 'x'), ...set('num_images', 'abc')],
      expect: /num_images/,
    },
    // Missing fields
    { name: 'missing: everything', args: submit(IMG, '{}'), expect: /prompt/ },
    { name: 'missing: prompt', args: submit(IMG, '{"num_images":1}'), expect: /prompt/ },
    { name: 'missing: image_urls', args: submit(EDIT, '{"prompt":"x"}'), expect: /image_urls/ },
    {
      name: 'missing: image_url (flux)',
      args: submit(FLUX, '{"prompt":"x"}'),
      expect: /image_url/,
    },
    {
      name: 'missing: video_url (kling)',
      args: submit(KLING, '{"prompt":"x"}'),
      expect: /video_url/,
    },
    {
      name: 'missing: empty image_urls',
      args: submit(EDIT, '{"prompt":"x","image_urls":[]}'),
      expect: /image_urls/,
    },
    // Unknown models and bad endpoint ids
    {
      name: 'type: image_urls a number',
      args: submit(EDIT, '{"prompt":"x","image_urls":5}'),
      expect: /image_urls/,
    },
    {
      name: 'model: unknown with --strict',
      args: submit('fal-ai/does-not-exist', '{"prompt":"x"}', '--strict'),
    },
    { name: 'model: model-info unknown', args: ['model-info', 'fal-ai/nope'] },
    { name: 'endpoint: spaces', args: submit('not a model', '{}') },
    { name: 'endpoint: path traversal', args: submit('../../etc/passwd', '{}') },
    { name: 'endpoint: trailing slash only', args: submit('fal-ai/', '{}') },
    { name: 'endpoint: empty', args: submit('', '{}') },
    { name: 'endpoint: a URL', args: submit('https://evil.example/x', '{}') },
    // Oversized and truncated media
    { name: 'media: truncated png', args: edit(media('truncated.png')) },
    { name: 'media: empty png', args: edit(media('empty.png')) },
    { name: 'media: truncated mp4 (head)', args: kling(media('truncated-head.mp4')) },
    { name: 'media: truncated mp4 (half)', args: kling(media('truncated-half.mp4')) },
    { name: 'media: video too short', args: kling(media('short-2s.mp4')) },
    { name: 'media: video too small', args: kling(media('small-640x360.mp4')) },
    {
      name: 'media: oversized data URI',
      args: ['to-data-uri', media('huge.png')],
      expect: /200|limit|upload/i,
    },
    {
      name: 'media: oversized forced data-uri submit',
      args: [...edit(media('huge.png')), '--upload-mode', 'data-uri'],
    },
    { name: 'media: to-data-uri of a folder', args: ['to-data-uri', join(dir, 'media')] },
    { name: 'media: to-data-uri missing', args: ['to-data-uri', media('missing.png')] },
    { name: 'media: video-to-uri truncated', args: ['video-to-uri', media('truncated-head.mp4')] },
    // Wrong formats
    { name: 'format: text named .png', args: edit(media('text.png')) },
    { name: 'format: video for an image', args: edit(media('short-2s.mp4')) },
    { name: 'format: image for a video', args: kling(media('image.png')) },
    { name: 'format: pdf for an image', args: edit(media('doc.pdf')) },
    { name: 'format: mp4 named .mov for kling', args: kling(media('text.mp4')) },
    // Hostile file names
    { name: 'name: path traversal', args: edit('../../../../../../etc/shadow') },
    { name: 'name: newline', args: edit('bad\nname.png') },
    { name: 'name: command substitution', args: edit('$(touch pwned).png') },
    { name: 'name: shell metacharacters', args: edit('; rm -rf ~ #.png') },
    { name: 'name: 300 characters', args: edit(`${'a'.repeat(300)}.png`) },
    { name: 'name: right-to-left override', args: edit('photo\u202egnp.exe') },
    { name: 'name: /dev/zero', args: edit('/dev/zero') },
    { name: 'name: file:// URL', args: edit('file:///etc/passwd') },
    // Broken stores
    { name: 'store: garbage file', args: ['list'], store: `file:${media('garbage-store.json')}` },
    {
      name: 'store: truncated file',
      args: ['list'],
      store: `file:${media('truncated-store.json')}`,
    },
    {
      name: 'store: invalid record',
      args: ['list', '--all'],
      store: `file:${media('invalid-record-store.json')}`,
    },
    { name: 'store: not a sqlite file', args: ['list'], store: `sqlite:${media('not-sqlite.db')}` },
    { name: 'store: unknown kind', args: ['list'], store: 'bogus:thing' },
    {
      name: 'store: redis db not a number',
      args: ['list'],
      store: 'redis://127.0.0.1:6379/notanumber',
    },
    { name: 'store: redis nobody listening', args: ['list'], store: 'redis://127.0.0.1:1' },
    // Keys
    { name: 'key: no colon', args: submit(IMG, '{"prompt":"x"}'), env: { FAL_KEY: 'nocolonkey' } },
    { name: 'key: missing', args: submit(IMG, '{"prompt":"x"}'), env: { FAL_KEY: undefined } },
    {
      name: 'key: locked account',
      args: submit(IMG, '{"prompt":"x"}'),
      env: { FAL_KEY: LOCKED_KEY },
    },
    // Flags and references
    { name: 'flag: concurrency 0', args: ['poll', '--concurrency', '0'] },
    { name: 'flag: timeout banana', args: ['poll', '--watch', '--timeout', 'banana'] },
    { name: 'flag: unknown', args: ['submit', IMG, '{"prompt":"x"}', '--bogus-flag'] },
    { name: 'ref: status of an unknown id', args: ['status', 'no-such-request'] },
    {
      name: 'ref: result unknown at fal',
      args: ['result', IMG, '00000000-0000-0000-0000-000000000000'],
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
  writeFileSync(join(m, 'truncated-store.json'), '{"version":1,"requests":{"abc":{"requestId":"ab');
  writeFileSync(
    join(m, 'invalid-record-store.json'),
    JSON.stringify({ version: 1, requests: { r1: { requestId: 'r1', status: 'weird' } } }),
  );
  writeFileSync(
    join(m, 'not-sqlite.db'),
    'SQLite format 2\u0000 but not really a database file at all',
  );
}

beforeAll(async () => {
  dir = workDir('bad-input');
  prepareMedia();
  emulator = await startEmulator({ port: 0, keys: { accept: 'any', locked: [LOCKED_KEY] } });
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
      // Alternate human and --json output so both error paths are covered.
      const json = index % 2 === 0;
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
          expect(parsed.error?.code, context).toMatch(/^[A-Z_]+$/);
          message = String(parsed.error?.message ?? '');
        } else {
          const line = run.stderr.split('\n').find((l) => l.startsWith('Error: '));
          expect(line, context).toBeDefined();
          message = (line ?? '').slice('Error: '.length);
        }
        expect(message.length, context).toBeGreaterThan(15);
        expect(message, context).not.toMatch(/undefined|\[object Object\]/);
        if (c.expect) expect(json ? run.stdout : run.stderr, context).toMatch(c.expect);
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
