import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Identifies one version of the file: any rewrite (rename) changes the inode or the times. */
export async function signatureOf(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Reads the file and the signature of exactly those bytes (stat of the open descriptor),
 * so a concurrent rename cannot pair old bytes with a new signature.
 */
export async function readWithSignature(
  path: string,
  known?: string,
): Promise<{ signature: string; text?: string } | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const st = await handle.stat({ bigint: true });
    const signature = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    if (signature === known) return { signature };
    return { signature, text: await handle.readFile('utf8') };
  } finally {
    await handle.close();
  }
}

const TEMP_SUFFIX = /\.\d+\.[0-9a-f]{12}\.tmp$/;

/**
 * Replaces `path` atomically: write a temp file in the same directory (mode 0600), fsync it,
 * rename it over the target, fsync the directory. A crash leaves either the old or the new
 * file, never a torn one.
 */
export async function atomicWrite(path: string, data: Buffer, fsync: boolean): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    // Mode 0600 comes from open(); a umask can only remove bits, never add them.
    await handle.writeFile(data);
    if (fsync) await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (fsync) await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems cannot fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** Creates the parent directory private to the user (0700) when missing. */
export async function ensureParent(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
}

/**
 * Removes temp files a killed writer left behind. Only called while holding the lock, when
 * no other writer can be between its temp write and its rename.
 */
export async function removeStaleTemps(path: string): Promise<void> {
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => name.startsWith(`${base}.`) && TEMP_SUFFIX.test(name.slice(base.length)))
      .map((name) => rm(join(dirname(path), name), { force: true })),
  );
}

/** Keeps a copy of the seed's file before it is migrated; never overwrites an older copy. */
export async function backupFile(path: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = `${path}.seed-backup-${stamp}`;
  await copyFile(path, target, constants.COPYFILE_EXCL);
  await chmod(target, 0o600);
  return target;
}
