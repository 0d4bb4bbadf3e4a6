import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Emulator, startEmulator } from '@falai/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedactor,
  embedProvenance,
  type PendingRecord,
  type Provenance,
  readProvenance,
} from '../../src/index.js';
import {
  buildProvenance,
  newPendingRecord,
  parsePendingRecord,
  recordProvenanceOf,
} from '../../src/internal.js';
import { downloadOutputs } from '../../src/queue/download.js';
import { createFalClient } from '../../src/queue/index.js';

/** The part of sharp these tests use; sharp comes from the emulator's dependencies. */
interface SharpImage {
  raw(): { toBuffer(): Promise<Buffer> };
  metadata(): Promise<{ format?: string }>;
  png(): { toFile(path: string): Promise<unknown> };
}
type Sharp = (
  input: string | { create: { width: number; height: number; channels: 3; background: string } },
) => SharpImage;
const sharp = createRequire(fileURLToPath(import.meta.resolve('@falai/emulator')))(
  'sharp',
) as Sharp;

const KEY = 'prov-key-id:prov-secret-5a8e1c7d3b9f';
const SEED = 17454220438242315174n;

let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({
    port: 0,
    deterministic: true,
    defaultLatency: { queueMs: 5, runMs: 20 },
    keys: { accept: [KEY] },
  });
  dir = await mkdtemp(join(tmpdir(), 'falai-provenance-'));
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a job on the emulator with the core client and saves its first output file. */
async function emulatorOutput(
  endpointId: string,
  input: Record<string, unknown>,
): Promise<{ path: string; record: PendingRecord; result: unknown }> {
  const client = createFalClient({ credentials: KEY, baseUrl: emulator.url });
  const submitted = await client.submit(endpointId, input);
  const outcome = await client.wait(endpointId, submitted.requestId);
  if (outcome.state !== 'completed') {
    throw new Error(
      `job ended ${outcome.state}: ${'error' in outcome ? outcome.error.message : ''}`,
    );
  }
  const outDir = join(dir, submitted.requestId);
  const [file] = await downloadOutputs({
    requestId: submitted.requestId,
    result: outcome.output,
    outDir,
  });
  if (!file) throw new Error('no output file');
  const record = parsePendingRecord({
    ...newPendingRecord({
      requestId: submitted.requestId,
      endpointId,
      input: { fields: input, files: [] },
    }),
    status: 'completed',
    result: outcome.output,
    startedAt: new Date().toISOString(),
    completedAt: new Date().toISOString(),
    outputs: [file],
  });
  return { path: file.path, record, result: outcome.output };
}

async function rawPixels(path: string): Promise<Buffer> {
  return sharp(path).raw().toBuffer();
}

/** flux/dev makes PNG and JPEG (and draws a 64-bit seed); nano-banana-pro also makes WebP. */
const FORMATS = [
  { format: 'png', endpointId: 'fal-ai/flux/dev' },
  { format: 'jpeg', endpointId: 'fal-ai/flux/dev' },
  { format: 'webp', endpointId: 'fal-ai/nano-banana-pro' },
] as const;

describe('embedProvenance / readProvenance on emulator outputs', () => {
  for (const { format, endpointId } of FORMATS) {
    it(`${format}: embeds, reads back exactly, and leaves the pixels identical`, async () => {
      const { path, record } = await emulatorOutput(endpointId, {
        prompt: `a lighthouse in ${format} — «storm» & <waves>`,
        seed: SEED,
        output_format: format,
      });
      const before = await readFile(path);
      const pixelsBefore = await rawPixels(path);
      expect(await readProvenance(path)).toBeUndefined();

      const provenance = buildProvenance({
        record,
        cost: { amount: 0.025, currency: 'USD' },
        parents: [{ requestId: 'parent-request-1', output: 0, field: 'image_url' }],
        output: { index: 0 },
        falaiVersion: '9.9.9-test',
      });
      const result = await embedProvenance(path, provenance);
      expect(result).toEqual({ embedded: true, format });

      const after = await readFile(path);
      expect(after.length).toBeGreaterThan(before.length);
      // The decoded image is exactly the same: the image data was copied, not re-encoded.
      expect((await rawPixels(path)).equals(pixelsBefore)).toBe(true);
      const meta = await sharp(path).metadata();
      expect(meta.format).toBe(format);

      const read = await readProvenance(path);
      expect(read?.format).toBe(format);
      expect(read?.source).toBe(format === 'png' ? 'png-text' : 'xmp');
      expect(read?.provenance.seed).toBe('17454220438242315174');
      expect(read?.provenance.requestId).toBe(record.requestId);
      expect(read?.provenance.endpointId).toBe(endpointId);
      expect(read?.provenance.input?.prompt).toBe(`a lighthouse in ${format} — «storm» & <waves>`);
      // The input's own seed comes back as the exact integer, not a rounded double.
      expect(read?.provenance.input?.seed).toBe(SEED);
      expect(read?.provenance.cost).toEqual({ amount: 0.025, currency: 'USD' });
      expect(read?.provenance.parents).toEqual([
        { requestId: 'parent-request-1', output: 0, field: 'image_url' },
      ]);
      expect(read?.provenance.falaiVersion).toBe('9.9.9-test');
      expect(read?.provenance.submittedAt).toBe(record.submittedAt);
      expect(read?.provenance.completedAt).toBe(record.completedAt);
    });
  }

  it('jpeg: only an APP1 segment is added; the bytes from the first non-APP segment on are unchanged', async () => {
    const { path, record } = await emulatorOutput('fal-ai/flux/dev', {
      prompt: 'bytes check',
      output_format: 'jpeg',
    });
    const before = await readFile(path);
    await embedProvenance(path, buildProvenance({ record }));
    const after = await readFile(path);
    // Everything from the quantisation tables (FFDB) to the end of the file is identical.
    const tables = before.indexOf(Buffer.from([0xff, 0xdb]));
    expect(tables).toBeGreaterThan(0);
    expect(
      after.subarray(after.length - (before.length - tables)).equals(before.subarray(tables)),
    ).toBe(true);
    // The seed the emulator drew (a 64-bit bigint in the result) is kept to the last digit.
    const read = await readProvenance(path);
    const seed = (record.result as { seed: bigint }).seed;
    expect(typeof seed).toBe('bigint');
    expect(read?.provenance.seed).toBe(seed.toString());
  });

  it('png: writes the falai text chunk, A1111-style parameters and XMP; keeps the image chunks', async () => {
    const { path, record } = await emulatorOutput('fal-ai/flux/dev', {
      prompt: 'a red fox',
      negative_prompt: 'blurry',
      seed: SEED,
      num_inference_steps: 28,
      output_format: 'png',
    });
    const before = await readFile(path);
    await embedProvenance(path, buildProvenance({ record }));
    const after = await readFile(path);
    const text = after.toString('latin1');
    expect(text).toContain('iTXtfalai\0');
    expect(text).toContain(
      'parameters\0a red fox\nNegative prompt: blurry\nSteps: 28, Seed: 17454220438242315174, Model: fal-ai/flux/dev',
    );
    expect(text).toContain('XML:com.adobe.xmp');
    // Every IDAT chunk is carried over byte for byte.
    const idat = before.indexOf('IDAT', 0, 'latin1') - 4;
    const iend = before.indexOf('IEND', 0, 'latin1') - 4;
    expect(after.includes(before.subarray(idat, iend))).toBe(true);
  });

  it('mp4: appends an XMP box, the video still parses, and the media bytes are untouched', async () => {
    const { path, record } = await emulatorOutput('fal-ai/kling-video/o3/pro/video-to-video/edit', {
      prompt: 'the lighthouse, now at night',
      video_url: `${emulator.url}/files/sample.mp4`,
      seed: SEED,
    });
    const before = await readFile(path);
    const { Input, ALL_FORMATS, FilePathSource } = await import('mediabunny');
    const durationOf = async () => {
      const input = new Input({ source: new FilePathSource(path), formats: ALL_FORMATS });
      try {
        return await input.computeDuration();
      } finally {
        input.dispose();
      }
    };
    const duration = await durationOf();
    const result = await embedProvenance(path, buildProvenance({ record }));
    expect(result).toEqual({ embedded: true, format: 'mp4' });
    const after = await readFile(path);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(await durationOf()).toBe(duration);
    const read = await readProvenance(path);
    expect(read?.format).toBe('mp4');
    expect(read?.provenance.seed).toBe('17454220438242315174');
    expect(read?.provenance.input?.prompt).toBe('the lighthouse, now at night');

    // Embedding again replaces it: the old box becomes `free`, the reader sees the new one.
    await embedProvenance(path, { ...read!.provenance, seed: '42' });
    expect((await readProvenance(path))?.provenance.seed).toBe('42');
    expect(await durationOf()).toBe(duration);
  });

  it('embedding twice keeps one falai document (the newest) and the pixels', async () => {
    const { path, record } = await emulatorOutput('fal-ai/nano-banana-pro', {
      prompt: 'twice',
      output_format: 'webp',
    });
    const pixels = await rawPixels(path);
    const first = buildProvenance({ record });
    await embedProvenance(path, first);
    await embedProvenance(path, { ...first, seed: '7' });
    const text = (await readFile(path)).toString('utf8');
    expect(text.split('falai:provenance>').length - 1).toBe(2); // one open and one close tag
    expect((await readProvenance(path))?.provenance.seed).toBe('7');
    expect((await rawPixels(path)).equals(pixels)).toBe(true);
  });

  it('keeps the file mode and writes through a rename (no partial file on the way)', async () => {
    const { path, record } = await emulatorOutput('fal-ai/flux/dev', { prompt: 'mode' });
    const { chmod } = await import('node:fs/promises');
    await chmod(path, 0o640);
    await embedProvenance(path, buildProvenance({ record }));
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });
});

describe('what provenance holds', () => {
  const base = (): PendingRecord =>
    parsePendingRecord({
      ...newPendingRecord({
        requestId: 'req-input-1',
        endpointId: 'fal-ai/nano-banana-pro/edit',
        input: {
          fields: {
            prompt: 'make it blue',
            image_urls: ['<file image_urls.0>', '<file image_urls.1>', '<file image_urls.2>'],
            seed: 12,
          },
          files: [
            {
              field: 'image_urls.0',
              kind: 'path',
              location: '/home/someone/private-project/cat.png',
              digest: `sha256:${'a'.repeat(64)}`,
              size: 1234,
              mime: 'image/png',
              sentAs: 'data-uri',
            },
            {
              field: 'image_urls.1',
              kind: 'url',
              location: 'https://user:hunter2@example.test/dog.png',
              sentAs: 'url',
            },
            {
              field: 'image_urls.2',
              kind: 'data-uri',
              digest: `sha256:${'b'.repeat(64)}`,
              size: 3,
              mime: 'image/webp',
              sentAs: 'upload',
              uploadedUrl: 'https://v3.fal.media/files/x/y.webp',
            },
          ],
        },
      }),
    });

  it('files by digest and original name (never a folder or bytes); URL passwords masked', () => {
    const provenance = buildProvenance({ record: base(), falaiVersion: '1.0.0' });
    expect(provenance.input).toEqual({
      prompt: 'make it blue',
      image_urls: [
        {
          $file: 'image_urls.0',
          name: 'cat.png',
          digest: `sha256:${'a'.repeat(64)}`,
          size: 1234,
          mime: 'image/png',
        },
        'https://user:***@example.test/dog.png',
        {
          $file: 'image_urls.2',
          digest: `sha256:${'b'.repeat(64)}`,
          size: 3,
          mime: 'image/webp',
          url: 'https://v3.fal.media/files/x/y.webp',
        },
      ],
      seed: 12,
    });
    expect(provenance.seed).toBe('12');
    expect(JSON.stringify(provenance)).not.toContain('private-project');
  });

  it('a raw input: data URIs become their digest, size and type', () => {
    const record = parsePendingRecord(
      newPendingRecord({ requestId: 'req-raw-1', endpointId: 'fal-ai/x' }),
    );
    const provenance = buildProvenance({
      record,
      input: { prompt: 'p', image_url: 'data:image/png;base64,AAEC' },
    });
    expect(provenance.input?.image_url).toEqual({
      $file: 'image_url',
      digest: 'sha256:ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc',
      size: 3,
      mime: 'image/png',
    });
    expect(JSON.stringify(provenance)).not.toContain('data:');
  });

  it('never holds a key its redactor knows, wherever it was typed', () => {
    const key = 'leak-key-id-77:leak-secret-0c1d2e3f4a5b';
    const redactor = createRedactor([key]);
    const record = parsePendingRecord(
      newPendingRecord({ requestId: 'req-secret-1', endpointId: 'fal-ai/x' }),
    );
    const provenance = buildProvenance({
      record,
      input: { prompt: `draw ${key} and leak-secret-0c1d2e3f4a5b` },
      redactor,
    });
    const text = JSON.stringify(provenance);
    expect(text).not.toContain('leak-secret-0c1d2e3f4a5b');
    expect(text).toContain('[redacted]');
  });

  it('a huge input is shortened to stay under the embed limit, with digests of what was cut', async () => {
    const record = parsePendingRecord(
      newPendingRecord({ requestId: 'req-huge-1', endpointId: 'fal-ai/x' }),
    );
    const provenance = buildProvenance({ record, input: { prompt: 'x'.repeat(200_000) } });
    expect(JSON.stringify(provenance).length).toBeLessThan(32 * 1024);
    expect(provenance.input?.prompt).toMatchObject({ $omitted: 'text', length: 200_000 });
  });

  it('the record keeps the seed, cost, parents and version, bounded and valid', () => {
    const provenance: Provenance = buildProvenance({
      record: base(),
      cost: { amount: 0.5, currency: 'USD' },
      parents: Array.from({ length: 40 }, (_, i) => ({ requestId: `p-${i}` })),
      falaiVersion: '1.2.3',
    });
    const kept = recordProvenanceOf(provenance);
    expect(kept.parents).toHaveLength(32);
    const record = parsePendingRecord({ ...base(), provenance: kept });
    expect(record.provenance).toEqual({
      seed: '12',
      cost: { amount: 0.5, currency: 'USD' },
      parents: kept.parents,
      falaiVersion: '1.2.3',
    });
  });
});

describe('files without provenance, and damaged ones', () => {
  it('a file of another kind, or one without falai metadata, has none', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'hello');
    expect(await readProvenance(text)).toBeUndefined();
    expect(
      await embedProvenance(
        text,
        buildProvenance({
          record: parsePendingRecord(newPendingRecord({ requestId: 'r-1', endpointId: 'e/x' })),
        }),
      ),
    ).toMatchObject({ embedded: false });
    expect(await readFile(text, 'utf8')).toBe('hello');
    const png = join(dir, 'plain.png');
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } })
      .png()
      .toFile(png);
    expect(await readProvenance(png)).toBeUndefined();
  });

  it('a missing file is MEDIA_INVALID naming it', async () => {
    await expect(readProvenance(join(dir, 'nope.png'))).rejects.toMatchObject({
      code: 'MEDIA_INVALID',
      message: expect.stringContaining('nope.png'),
    });
  });

  it('a provenance document that no longer parses is MEDIA_INVALID, not a crash', async () => {
    const { path, record } = await emulatorOutput('fal-ai/flux/dev', {
      prompt: 'to be damaged',
      output_format: 'jpeg',
    });
    await embedProvenance(path, buildProvenance({ record }));
    const bytes = await readFile(path);
    const at = bytes.indexOf('"requestId"');
    bytes.write('"requestXd"', at, 'latin1');
    const damaged = join(dir, 'damaged.jpg');
    await copyFile(path, damaged);
    await writeFile(damaged, bytes);
    await expect(readProvenance(damaged)).rejects.toMatchObject({ code: 'MEDIA_INVALID' });
  });
});
