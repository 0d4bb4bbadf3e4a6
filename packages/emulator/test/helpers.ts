import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Emulator, type EmulatorOptions, type JobInfo, startEmulator } from '../src/index.js';

/** The Authorization header of a well-formed test key. */
export const AUTH = { authorization: 'Key test-id:test-secret' };

/** Test model definitions, written to a temp folder so tests do not depend on models/. */
export const DEFINITIONS: Record<string, unknown> = {
  'acme/painter': {
    endpointId: 'acme/painter',
    category: 'text-to-image',
    input: {
      prompt: { type: 'string', required: true },
      num_images: { type: 'integer', default: 1, minimum: 1, maximum: 4 },
      aspect_ratio: { type: 'string', enum: ['1:1', '16:9', '9:16'], default: '1:1' },
      output_format: { type: 'string', enum: ['jpeg', 'png', 'webp'], default: 'png' },
      seed: { type: 'integer' },
    },
    output: {
      kind: 'images',
      schema: { images: { type: 'array' }, description: { type: 'string' } },
    },
  },
  'acme/flux/dev/image-to-image': {
    endpointId: 'acme/flux/dev/image-to-image',
    category: 'image-to-image',
    input: {
      image_url: { type: 'file', required: true },
      prompt: { type: 'string', required: true },
      output_format: { type: 'string', enum: ['jpeg', 'png'], default: 'jpeg' },
    },
    output: {
      kind: 'images',
      schema: {
        images: { type: 'array' },
        has_nsfw_concepts: { type: 'array' },
        prompt: { type: 'string' },
        seed: { type: 'integer' },
        timings: { type: 'object' },
      },
    },
  },
  'acme/video/v1/edit': {
    endpointId: 'acme/video/v1/edit',
    category: 'video-to-video',
    input: {
      prompt: { type: 'string', required: true },
      video_url: { type: 'file', required: true },
      image_urls: { type: 'array', minItems: 1, items: { type: 'file', media: 'image' } },
      duration: { type: 'string', enum: ['5', '10'], default: '5' },
    },
    output: { kind: 'video', schema: { video: { type: 'object' } } },
  },
};

/** A temp folder holding DEFINITIONS (plus one unreadable file the loader must skip). */
export async function writeDefinitions(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'falai-emulator-models-'));
  for (const [id, definition] of Object.entries(DEFINITIONS)) {
    const file = join(dir, `${id}.json`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(definition));
  }
  await writeFile(join(dir, 'broken.json'), '{ not json');
  return dir;
}

/** Starts an emulator on test definitions with fast latencies; `stop()` cleans everything. */
export async function setup(options: EmulatorOptions = {}) {
  const modelsDir = await writeDefinitions();
  const emulator = await startEmulator({
    deterministic: true,
    defaultLatency: { queueMs: 5, runMs: 20 },
    modelsDirs: [modelsDir],
    builtInModels: false,
    sseKeepAliveMs: 1000,
    webhook: { retries: 3, retryDelayMs: 10 },
    ...options,
  });
  return {
    emulator,
    async stop() {
      await emulator.close();
      await rm(modelsDir, { recursive: true, force: true });
    },
  };
}

/** POSTs a JSON body with the test key. */
export function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** GETs with the test key. */
export function get(url: string, headers: Record<string, string> = {}) {
  return fetch(url, { headers: { ...AUTH, ...headers } });
}

/** Submits and returns the parsed submit response. */
export async function submit(
  emulator: Emulator,
  endpointId: string,
  input: unknown,
  headers: Record<string, string> = {},
  query = '',
) {
  const response = await post(`${emulator.url}/${endpointId}${query}`, input, headers);
  if (response.status !== 200) throw new Error(`submit failed: ${response.status}`);
  return (await response.json()) as {
    status: string;
    request_id: string;
    response_url: string;
    status_url: string;
    cancel_url: string;
    queue_position: number;
  };
}

/** Resolves once the job completes (immediately if it already has). */
export function completion(emulator: Emulator, requestId: string): Promise<JobInfo> {
  return new Promise((resolve) => {
    const listener = (job: JobInfo) => {
      if (job.requestId !== requestId) return;
      emulator.off('completed', listener);
      resolve(job);
    };
    emulator.on('completed', listener);
    const current = emulator.job(requestId);
    if (current?.status === 'COMPLETED') {
      emulator.off('completed', listener);
      resolve(current);
    }
  });
}

/** Waits until `check` holds, polling the emulator's in-memory state (not HTTP). */
export async function until(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON bodies are asserted on, not typed.
export type Json = any;

/** Parses a JSON response body for assertions. */
export function json(response: Response): Promise<Json> {
  return response.json() as Promise<Json>;
}
