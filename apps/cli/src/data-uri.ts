import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MediaError } from '@falai/core';

/** Fails early, with the path in the message, when a file is missing or not a file. */
export async function assertFile(path: string): Promise<string> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  if (!info)
    throw new MediaError(`File not found: ${path}. Check the path.`, {
      details: { path: absolute },
    });
  if (!info.isFile())
    throw new MediaError(`Not a regular file: ${path}.`, { details: { path: absolute } });
  return absolute;
}
