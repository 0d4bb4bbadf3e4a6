import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinedDir, confinedInputFile, isInside } from '../src/paths.js';

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
