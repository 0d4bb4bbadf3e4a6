import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DataUriOutputSchema, ErrorOutputSchema } from '@falai/core';
import { encodeDataUri } from '@falai/core/internal';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamDataUri } from '../src/data-uri.js';
import { createTestEnv, RUN_JS, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
});
afterAll(async () => {
  await env.close();
});

const decode = (uri: string) => Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');

/**
 * A slow writable that says "full" after every write, recording what it got and how much was
 * queued behind the chunk being written (zero when the writer waits for 'drain').
 */
function slowWritable(): { out: Writable; text: () => string; queued: () => number } {
  const got: string[] = [];
  let queued = 0;
  const out: Writable = new Writable({
    highWaterMark: 1,
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      got.push(chunk);
      queued = Math.max(queued, out.writableLength - chunk.length);
      setTimeout(done, 1);
    },
  });
  return { out, text: () => got.join(''), queued: () => queued };
}

describe('streamDataUri', () => {
  it('waits for drain and writes the URI alone on its line, byte for byte', async () => {
    const bytes = randomBytes(10_001);
    const path = join(env.dir, 'slow.bin');
    await writeFile(path, bytes);
    const encoding = await encodeDataUri(path, { chunkBytes: 999 });
    const sink = slowWritable();
    const digest = await streamDataUri(encoding, undefined, sink.out);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sink.queued()).toBe(0);
    expect(sink.text()).toBe(`data:application/octet-stream;base64,${bytes.toString('base64')}\n`);
  });

  it('writes a JSON object around the streamed URI that parses against the schema', async () => {
    const bytes = randomBytes(4_000);
    const path = join(env.dir, 'json "quoted".bin');
    await writeFile(path, bytes);
    const encoding = await encodeDataUri(path, { chunkBytes: 300 });
    const sink = slowWritable();
    const fields = { path, mime: encoding.mime, size: encoding.size, warnings: ['a "w"'] };
    const digest = await streamDataUri(encoding, fields, sink.out);
    const parsed = JSON.parse(sink.text());
    expect(v.safeParse(DataUriOutputSchema, parsed).success).toBe(true);
    expect(parsed).toEqual({ ...fields, uri: expect.any(String), digest });
    expect(decode(parsed.uri).equals(bytes)).toBe(true);
    // Same layout as oclif's own --json output.
    expect(sink.text()).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
  });

  it('stops quietly when the reader goes away (EPIPE) and rethrows other errors', async () => {
    const path = join(env.dir, 'gone.bin');
    await writeFile(path, randomBytes(30_000));
    for (const code of ['EPIPE', 'EIO']) {
      let writes = 0;
      const out = new Writable({
        write(_chunk, _encoding, done) {
          writes++;
          done(Object.assign(new Error(`write ${code}`), { code }));
        },
      });
      const encoding = await encodeDataUri(path, { chunkBytes: 3000 });
      const result = streamDataUri(encoding, undefined, out);
      if (code === 'EPIPE') await expect(result).resolves.toBeUndefined();
      else await expect(result).rejects.toThrow(/write EIO/);
      expect(writes).toBe(1);
      // The file was closed and the encoding knows it stopped early.
      await expect(encoding.digest).rejects.toThrow(/stopped before the end/);
    }
  });
});

describe('falai to-data-uri (streamed)', () => {
  it('prints the URI alone (human) and a schema-valid object (--json)', async () => {
    const bytes = randomBytes(100_000);
    const path = join(env.dir, 'small.bin');
    await writeFile(path, bytes);
    const human = await env.run(['to-data-uri', path]);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`data:application/octet-stream;base64,${bytes.toString('base64')}\n`);
    const json = await env.run(['to-data-uri', path, '--json']);
    expect(json.code).toBe(0);
    const output = json.json(DataUriOutputSchema);
    expect(output).toMatchObject({ path, mime: 'application/octet-stream', size: bytes.length });
    expect(decode(output.uri).equals(bytes)).toBe(true);
    expect(output.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('refuses an oversized file before writing anything to stdout', async () => {
    const path = join(env.dir, 'huge.bin');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 200 * 1024 * 1024 + 1);
    closeSync(fd);
    const human = await env.run(['to-data-uri', path]);
    expect(human.code).toBe(4);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/data URIs are limited to 200\.0 MB\. Upload the file/);
    const json = await env.run(['to-data-uri', path, '--json']);
    expect(json.code).toBe(4);
    expect(json.json(ErrorOutputSchema).error.code).toBe('MEDIA_INVALID');
  });

  it('exits quietly when its reader closes early (| head)', async () => {
    const path = join(env.dir, 'piped.bin');
    await writeFile(path, randomBytes(3 * 1024 * 1024));
    const result = await new Promise<{ code: number | null; stderr: string; got: number }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, [RUN_JS, 'to-data-uri', path], {
          env: env.baseEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        let got = 0;
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
        });
        child.stdout.once('data', (chunk: Buffer) => {
          got = chunk.length;
          child.stdout.destroy();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr, got }));
      },
    );
    expect(result.got).toBeGreaterThan(0);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
