import { writeFile } from 'node:fs/promises';
import type { OutputContext } from '../outputs.js';
import type { CatalogueModel, OutputKind } from './catalogue.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sample rate of generated audio: 8 kHz, 8-bit mono keeps minutes of audio small. */
const SAMPLE_RATE = 8000;

/**
 * Seconds of audio a request asks for: `duration`/`seconds_total`/`music_length_ms` when given,
 * else the time it takes to speak the text (15 characters a second), else 2 s; 0.5–300 s.
 */
export function requestedAudioSeconds(input: Record<string, unknown>): number {
  const number = (value: unknown) =>
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  const candidates = [
    number(input.duration),
    number(input.seconds_total),
    number(input.duration_seconds),
    number(input.music_length_ms) / 1000,
  ];
  let seconds = candidates.find((value) => Number.isFinite(value) && value > 0);
  if (seconds === undefined) {
    const text = [input.text, input.prompt, input.gen_text].find((v) => typeof v === 'string');
    seconds = typeof text === 'string' && text.length > 0 ? text.length / 15 : 2;
  }
  return Math.min(300, Math.max(0.5, Math.round(seconds * 1000) / 1000));
}

/** A WAV file (PCM, 8-bit mono) holding a quiet 440 Hz tone of `seconds`. */
export function wavBytes(seconds: number): Buffer {
  const samples = Math.round(seconds * SAMPLE_RATE);
  const buffer = Buffer.alloc(44 + samples);
  buffer.write('RIFF', 0, 'latin1');
  buffer.writeUInt32LE(36 + samples, 4);
  buffer.write('WAVE', 8, 'latin1');
  buffer.write('fmt ', 12, 'latin1');
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20);
  buffer.writeUInt16LE(1, 22);
  buffer.writeUInt32LE(SAMPLE_RATE, 24);
  buffer.writeUInt32LE(SAMPLE_RATE, 28);
  buffer.writeUInt16LE(1, 32);
  buffer.writeUInt16LE(8, 34);
  buffer.write('data', 36, 'latin1');
  buffer.writeUInt32LE(samples, 40);
  for (let index = 0; index < samples; index++) {
    buffer[44 + index] = 128 + Math.round(20 * Math.sin((2 * Math.PI * 440 * index) / SAMPLE_RATE));
  }
  return buffer;
}

/** Writes bytes into the emulator's CDN and returns fal's File object for them. */
async function storeFile(
  context: OutputContext,
  bytes: Buffer,
  extension: string,
  contentType: string,
  extra: Record<string, unknown> = {},
) {
  const fileName = `${context.requestId}.${extension}`;
  const path = context.files.tempPath(`-${fileName}`);
  await writeFile(path, bytes);
  const urlPath = `/files/outputs/${fileName}`;
  context.files.register(urlPath, { path, contentType, size: bytes.length });
  return {
    url: `${context.origin}${urlPath}`,
    content_type: contentType,
    file_name: fileName,
    file_size: bytes.length,
    ...extra,
  };
}

/** A value for a required output field the model fills besides its media. */
function filler(name: string, schema: unknown, input: Record<string, unknown>, seed: () => number) {
  if (name in input && typeof input[name] !== 'object') return input[name];
  const type = isRecord(schema) ? schema.type : undefined;
  if (name === 'seed') return seed();
  switch (type) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default:
      return {};
  }
}

/**
 * The output of a catalogue model whose result is one image or an audio file (the emulator's
 * built-in generator makes image lists and videos): the media file plus the output schema's
 * other required fields. Returns the output and, for audio, its length in seconds.
 */
export async function generateCatalogueOutput(
  context: OutputContext,
  model: CatalogueModel,
  kind: Extract<OutputKind, { field: string }>,
): Promise<{ output: Record<string, unknown>; audioSeconds?: number }> {
  const properties = isRecord(model.output.properties) ? model.output.properties : {};
  const inputProperties = isRecord(model.input.properties) ? model.input.properties : {};
  // The app sees its schema's defaults for what the request left out.
  const defaults = Object.fromEntries(
    Object.entries(inputProperties).flatMap(([name, schema]) =>
      isRecord(schema) && schema.default !== undefined ? [[name, schema.default]] : [],
    ),
  );
  const input = { ...defaults, ...(isRecord(context.input) ? context.input : {}) };
  const output: Record<string, unknown> = {};
  let audioSeconds: number | undefined;
  if (kind.kind === 'audio') {
    audioSeconds = requestedAudioSeconds(input);
    output[kind.field] = await storeFile(context, wavBytes(audioSeconds), 'wav', 'audio/wav');
  } else {
    const { default: sharp } = await import('sharp');
    const background = {
      r: context.prng.int(0, 255),
      g: context.prng.int(0, 255),
      b: context.prng.int(0, 255),
    };
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background } })
      .png()
      .toBuffer();
    output[kind.field] = await storeFile(context, png, 'png', 'image/png', {
      width: 64,
      height: 64,
    });
  }
  const required = Array.isArray(model.output.required) ? model.output.required : [];
  for (const name of required) {
    if (typeof name !== 'string' || name in output) continue;
    output[name] = filler(name, properties[name], input, () => context.prng.int(0, 2 ** 31 - 1));
  }
  return { output, ...(audioSeconds !== undefined ? { audioSeconds } : {}) };
}
