import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNamePattern, fillNamePattern, isFileOut, outputTarget } from '../src/output-names.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falai-names-'));
  await mkdir(join(dir, 'renders.png'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ID = '0b1c2d3e-aaaa-4bbb-8ccc-000000000001';
const NOW = new Date(2026, 2, 7, 9, 5, 3);

describe('--out', () => {
  it('a path with a media extension names a file; a folder, a trailing slash or no extension do not', () => {
    expect(isFileOut(join(dir, 'cat.png'))).toBe(true);
    expect(isFileOut('cat.JPG')).toBe(true);
    expect(isFileOut('clip.mp4')).toBe(true);
    expect(isFileOut(join(dir, 'renders.png'))).toBe(false);
    expect(isFileOut('renders/')).toBe(false);
    expect(isFileOut('renders')).toBe(false);
    expect(isFileOut('renders.v2')).toBe(false);
    expect(isFileOut('.png')).toBe(false);
  });

  it('--out cat.png saves one output as exactly cat.png, several as cat-1.png, cat-2.png', () => {
    const target = outputTarget({
      out: join(dir, 'out', 'cat.png'),
      defaultDir: 'unused',
      requestId: ID,
    });
    expect(target.outDir).toBe(join(dir, 'out'));
    expect(target.fileName?.(0, 1, 'png')).toBe('cat.png');
    expect(target.fileName?.(0, 2, 'png')).toBe('cat-1.png');
    expect(target.fileName?.(1, 2, 'png')).toBe('cat-2.png');
    // Each output keeps its own kind: a video next to an image is not called .png.
    expect(target.fileName?.(1, 2, 'mp4')).toBe('cat-2.mp4');
  });

  it('a folder keeps the default names', () => {
    const target = outputTarget({ out: join(dir, 'renders.png'), defaultDir: 'x', requestId: ID });
    expect(target).toEqual({ outDir: join(dir, 'renders.png') });
    expect(outputTarget({ defaultDir: 'falai-output', requestId: ID })).toEqual({
      outDir: 'falai-output',
    });
  });

  it('--out <file> with --name is refused, saying which to keep', () => {
    expect(() =>
      outputTarget({ out: 'cat.png', name: '{n}', defaultDir: '.', requestId: ID }),
    ).toThrow(/--out cat\.png names a file and --name a pattern; use one/);
  });
});

describe('--name patterns', () => {
  const fill = (pattern: string, index: number, count: number, ext = 'png') =>
    fillNamePattern(pattern, {
      requestId: ID,
      index,
      count,
      ext,
      endpointId: 'fal-ai/nano-banana-pro',
      now: NOW,
    });

  it('fills every field', () => {
    expect(fill('{request_id}-{index}.{ext}', 0, 1)).toBe(`${ID}-0.png`);
    expect(fill('{endpoint}-{date}-{time}-{n}.{ext}', 1, 2)).toBe(
      'fal-ai_nano-banana-pro-2026-03-07-090503-2.png',
    );
  });

  it('adds .{ext} when missing, and -{index} when several outputs would share a name', () => {
    expect(fill('cat', 0, 1, 'webp')).toBe('cat.webp');
    expect(fill('cat', 0, 2)).toBe('cat-0.png');
    expect(fill('cat', 1, 2)).toBe('cat-1.png');
    expect(fill('cat-{n}', 1, 2)).toBe('cat-2.png');
    expect(fill('{date}.{ext}', 1, 3)).toBe('2026-03-07-1.png');
  });

  it('refuses unknown fields, folders, unbalanced braces and empty patterns with the fix', () => {
    const message = (pattern: string) => {
      try {
        checkNamePattern(pattern);
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return (error as Error).message;
      }
      throw new Error(`${pattern} was accepted`);
    };
    expect(message('{id}-{n}')).toMatch(
      /\{id\} is not a name field; use \{request_id\}, \{index\}/,
    );
    expect(message('renders/{n}')).toMatch(/cannot contain a folder; put the folder in --out/);
    expect(message('{n')).toMatch(/unbalanced braces/);
    expect(message('  ')).toMatch(/empty/);
    expect(() => checkNamePattern('{endpoint}-{date}-{n}.{ext}')).not.toThrow();
  });
});
