import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors/falai-error.js';
import { checkVideoLimits, probeImage, probeVideo, sniffFile } from '../../src/media/index.js';
import { createModelRegistry, videoLimitsFor } from '../../src/models/index.js';
import { fixture, tempDir } from './helpers.js';

const KLING = 'fal-ai/kling-video/o3/pro/video-to-video/edit';
const limits = videoLimitsFor(createModelRegistry(), KLING);
if (!limits) throw new Error('Kling model has no video limits');

describe('sniffFile: content beats the extension', () => {
  it('a PNG named .jpg is a PNG', async () => {
    expect(await sniffFile(fixture('png-named.jpg'))).toEqual({
      mime: 'image/png',
      ext: 'png',
      kind: 'image',
    });
  });
  it('an MP4 named .mov is an MP4', async () => {
    expect(await sniffFile(fixture('mp4-named.mov'))).toMatchObject({
      mime: 'video/mp4',
      ext: 'mp4',
      kind: 'video',
    });
  });
  it('a real MOV is QuickTime', async () => {
    expect(await sniffFile(fixture('ok-1280x720-4s.mov'))).toMatchObject({
      mime: 'video/quicktime',
      ext: 'mov',
      kind: 'video',
    });
  });
  it('text named .mp4 is text', async () => {
    expect(await sniffFile(fixture('text-named.mp4'))).toEqual({
      mime: 'text/plain',
      ext: 'txt',
      kind: 'other',
    });
  });
  it('works on bytes too', async () => {
    const bytes = readFileSync(fixture('photo-320x240.jpg'));
    expect(await sniffFile(bytes)).toMatchObject({ mime: 'image/jpeg', kind: 'image' });
  });
  it('a missing file is a MediaError that names it', async () => {
    await expect(sniffFile('/nonexistent/x.png')).rejects.toThrow(
      /File not found: \/nonexistent\/x\.png/,
    );
  });
});

describe('probeImage', () => {
  it('reads format and dimensions from the bytes', async () => {
    expect(await probeImage(fixture('photo-320x240.jpg'))).toMatchObject({
      format: 'jpg',
      width: 320,
      height: 240,
      mime: 'image/jpeg',
    });
    expect(await probeImage(fixture('image-800x600.png'))).toMatchObject({
      format: 'png',
      width: 800,
      height: 600,
      size: readFileSync(fixture('image-800x600.png')).byteLength,
    });
  });
  it('a PNG named .jpg reports png', async () => {
    expect(await probeImage(fixture('png-named.jpg'))).toMatchObject({
      format: 'png',
      width: 64,
      height: 48,
    });
  });
  it('a video is not an image', async () => {
    await expect(probeImage(fixture('ok-1280x720-4s.mp4'))).rejects.toThrow(
      /is not an image: its content is video\/mp4/,
    );
  });
  it('a truncated PNG is a clear MediaError', async () => {
    const bytes = readFileSync(fixture('image-800x600.png')).subarray(0, 20);
    const err = await probeImage(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.message).toMatch(/truncated or damaged/);
  });
});

describe('probeVideo', () => {
  it.each([
    ['ok-1280x720-4s.mp4', 'mp4', 4, 1280, 720],
    ['ok-1280x720-4s.mov', 'mov', 4, 1280, 720],
    ['ok-720x1280-5s.mp4', 'mp4', 5, 720, 1280],
    ['short-1280x720-2s.mp4', 'mp4', 2, 1280, 720],
    ['long-1280x720-16s.mov', 'mov', 16, 1280, 720],
    ['small-640x360-4s.mp4', 'mp4', 4, 640, 360],
    ['large-4096x2160-4s.mov', 'mov', 4, 4096, 2160],
    ['mp4-named.mov', 'mp4', 4, 1280, 720],
  ])('%s → %s %ss %sx%s', async (name, container, seconds, width, height) => {
    const probe = await probeVideo(fixture(name));
    expect(probe).toMatchObject({ container, width, height });
    expect(probe.durationSeconds).toBeCloseTo(seconds, 1);
    expect(probe.size).toBe(readFileSync(fixture(name)).byteLength);
    expect(probe.mime).toBe(container === 'mov' ? 'video/quicktime' : 'video/mp4');
  });
  it('reads bytes in memory (a decoded data URI)', async () => {
    const probe = await probeVideo(readFileSync(fixture('ok-1280x720-4s.mov')));
    expect(probe).toMatchObject({ container: 'mov', width: 1280, height: 720 });
  });
  it('a file with its media data cut off is reported truncated', async () => {
    const err = await probeVideo(fixture('truncated-half.mp4')).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.message).toMatch(
      /truncated-half\.mp4 is truncated: box 'mdat' needs \d+ bytes but only \d+ remain/,
    );
  });
  it('a file cut inside its header is reported truncated', async () => {
    await expect(probeVideo(fixture('truncated-head.mp4'))).rejects.toThrow(/is truncated/);
  });
  it('text named .mp4 is not a video', async () => {
    await expect(probeVideo(fixture('text-named.mp4'))).rejects.toThrow(
      /is not an MP4 or MOV video: its content is text\/plain/,
    );
  });
  it('an image is not a video', async () => {
    await expect(probeVideo(fixture('photo-320x240.jpg'))).rejects.toThrow(
      /its content is image\/jpeg/,
    );
  });
});

describe('checkVideoLimits with the Kling O3 limits', () => {
  it('accepts videos inside the limits', async () => {
    for (const name of ['ok-1280x720-4s.mp4', 'ok-1280x720-4s.mov', 'ok-720x1280-5s.mp4']) {
      expect(checkVideoLimits(await probeVideo(fixture(name)), limits)).toEqual([]);
    }
  });
  it.each([
    ['short-1280x720-2s.mp4', /the video is 2 s long; it must be 3–15 s/, /at least 3 s/],
    ['long-1280x720-16s.mov', /the video is 16 s long; it must be 3–15 s/, /-t 15/],
    [
      'small-640x360-4s.mp4',
      /640×360 px; width and height must each be 720–3840 px/,
      /scale it up/,
    ],
    [
      'large-4096x2160-4s.mov',
      /4096×2160 px; width and height must each be 720–3840 px/,
      /scale it down/,
    ],
  ])('%s is outside', async (name, message, hint) => {
    const issues = checkVideoLimits(await probeVideo(fixture(name)), limits, ['video_url']);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: ['video_url'], kind: 'media' });
    expect(issues[0]?.message).toMatch(message);
    expect(issues[0]?.message).toMatch(/^video_url: /);
    expect(issues[0]?.hint).toMatch(hint);
  });
  it('checks size and container', async () => {
    const probe = await probeVideo(fixture('ok-1280x720-4s.mov'));
    const issues = checkVideoLimits(
      { ...probe, size: 300 * 1024 * 1024 },
      { ...limits, formats: ['mp4'] },
    );
    expect(issues.map((i) => i.message)).toEqual([
      'the video is MOV; accepted: .mp4',
      'the video is 300.0 MB; at most 200.0 MB allowed',
    ]);
  });
});

describe('mislabelled copies in a temp dir', () => {
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);
  it('a MOV named .mp4 probes as mov', async () => {
    const path = join(dir, 'really-mov.mp4');
    copyFileSync(fixture('ok-1280x720-4s.mov'), path);
    expect((await probeVideo(path)).container).toBe('mov');
  });
});
