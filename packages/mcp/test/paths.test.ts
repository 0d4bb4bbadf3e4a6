import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModelRegistry } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinedDir, confinedInputFile, confineInputFiles, isInside } from '../src/paths.js';

let root: string;
let out: string;
let inputs: string;
let outside: string;

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'falai-mcp-paths-')));
  out = join(root, 'out');
  inputs = join(root, 'inputs');
  outside = join(root, 'outside');
  await Promise.all([mkdir(out), mkdir(inputs), mkdir(outside)]);
  await writeFile(join(inputs, 'cat.png'), 'png');
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink(outside, join(out, 'link-out'));
  await symlink(join(outside, 'secret.txt'), join(inputs, 'innocent.png'));
  await mkdir(join(inputs, 'kept'));
  await writeFile(join(inputs, 'kept', 'real.png'), 'png');
  await symlink(join(inputs, 'kept', 'real.png'), join(inputs, 'alias.png'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('isInside', () => {
  it('tells a folder and what is below it from everything else', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c/d')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
    expect(isInside('/a/b', '/a/b/../c')).toBe(false);
  });
});

describe('confinedDir (folders agents name for downloads)', () => {
  it('keeps relative folders inside the output folder, new ones included', async () => {
    expect(await confinedDir(out, undefined)).toBe(out);
    expect(await confinedDir(out, '.')).toBe(out);
    expect(await confinedDir(out, 'videos/today')).toBe(join(out, 'videos', 'today'));
  });

  it('refuses absolute paths, .. escapes and symbolic links leading out', async () => {
    await expect(confinedDir(out, '/etc')).rejects.toThrow(/absolute path/);
    await expect(confinedDir(out, '../outside')).rejects.toThrow(/leads out of the output folder/);
    await expect(confinedDir(out, 'a/../../x')).rejects.toThrow(/leads out/);
    await expect(confinedDir(out, 'link-out/new')).rejects.toThrow(/symbolic link/);
    await expect(confinedDir(out, 'bad\0name')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});

describe('confinedInputFile (local files in inputs)', () => {
  it('allows files inside the allowed folders, relative ones from the first', async () => {
    expect(await confinedInputFile([inputs, out], join(inputs, 'cat.png'), 'image_url')).toBe(
      join(inputs, 'cat.png'),
    );
    expect(await confinedInputFile([inputs, out], 'cat.png', 'image_url')).toBe(
      join(inputs, 'cat.png'),
    );
  });

  it('returns the real path it checked, not the link the agent named', async () => {
    expect(await confinedInputFile([inputs], 'alias.png', 'image_url')).toBe(
      join(inputs, 'kept', 'real.png'),
    );
  });

  it('refuses files elsewhere, through .. or through a symbolic link', async () => {
    const refused = confinedInputFile([inputs, out], join(outside, 'secret.txt'), 'image_urls.0');
    await expect(refused).rejects.toThrow(/outside the folders this server may read/);
    await expect(refused).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      issues: [{ path: ['image_urls', '0'] }],
    });
    await expect(confinedInputFile([inputs], '../outside/secret.txt', 'f')).rejects.toThrow(
      /outside/,
    );
    await expect(confinedInputFile([inputs], 'innocent.png', 'f')).rejects.toThrow(/outside/);
    await expect(confinedInputFile([inputs], '/etc/passwd', 'f')).rejects.toThrow(/--allow-dir/);
  });
});

describe('confineInputFiles (the file fields of an input)', () => {
  const registry = createModelRegistry();
  const endpointId = 'fal-ai/nano-banana-pro/edit';

  it('confines local paths and leaves URLs, data URIs and output references to core', async () => {
    const input = {
      prompt: 'x',
      image_urls: [
        'cat.png',
        '@last',
        '@abcd1234#2',
        'https://v3.fal.media/files/a.png',
        'data:image/png;base64,iVBORw0KGgo=',
      ],
    };
    const confined = await confineInputFiles(registry, [inputs, out], endpointId, input);
    expect(confined).toEqual({
      prompt: 'x',
      image_urls: [
        join(inputs, 'cat.png'),
        '@last',
        '@abcd1234#2',
        'https://v3.fal.media/files/a.png',
        'data:image/png;base64,iVBORw0KGgo=',
      ],
    });
    // The agent's input is not changed in place.
    expect(input.image_urls[0]).toBe('cat.png');
  });

  it('treats a value that only looks like a reference as a path, and confines it', async () => {
    await expect(
      confineInputFiles(registry, [inputs], endpointId, {
        prompt: 'x',
        image_urls: ['@last/../../outside/secret.txt'],
      }),
    ).rejects.toThrow(/outside the folders this server may read/);
  });
});
