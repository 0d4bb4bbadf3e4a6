import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway HOME with helpers to write files under it; never touches the real ~. */
export interface TempHome {
  readonly home: string;
  readonly env: Record<string, string>;
  write(relative: string, content: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function tempHome(extraEnv: Record<string, string> = {}): Promise<TempHome> {
  const home = await mkdtemp(join(tmpdir(), 'falai-home-'));
  return {
    home,
    env: { HOME: home, ...extraEnv },
    async write(relative, content) {
      const path = join(home, relative);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      return path;
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}
