import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  rm,
  stat,
} from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Identifies one version of a file: any rewrite (rename) changes the inode or the times. */
function signature(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** What the snapshot looks like on disk right now. */
export interface FileInfo {
  readonly signature: string;
  readonly size: number;
  /** Permission bits (`mode & 0o7777`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

function infoOf(st: Stats): FileInfo {
  return {
    signature: signature(st),
    size: st.size,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
  };
}

/** The snapshot's current identity, or undefined when there is none. */
export async function fileInfo(path: string): Promise<FileInfo | undefined> {
  try {
    return infoOf(await stat(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The file the store really writes: `path` itself, or where its symlink (chain) points, so a
 * symlinked store file stays a symlink and the data goes to its target. A dangling link
 * resolves to the path it names (created on the first write).
 */
export async function resolveTarget(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = await lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // A missing final file under a symlinked directory still resolves its directory.
        if (current === path) return path;
        try {
          return join(await realpath(dirname(current)), basename(current));
        } catch {
          return current;
        }
      }
      throw error;
    }
    if (!st.isSymbolicLink()) return current === path ? path : await realpath(current);
    current = resolve(dirname(current), await readlink(current));
  }
  const error = new Error(`too many levels of symbolic links at ${path}`) as NodeJS.ErrnoException;
  error.code = 'ELOOP';
  throw error;
}

type FileHandle = Awaited<ReturnType<typeof open>>;

/** `path` opened for reading, or `undefined` when there is no such file. */
async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Reads the snapshot and the identity of exactly those bytes (stat of the open descriptor), so
 * a concurrent rename cannot pair old bytes with a new identity. Bytes, never one string: a
 * file of any size is read (or refused) line by line.
 */
export async function readSnapshot(
  path: string,
): Promise<{ info: FileInfo; data: Buffer } | undefined> {
  const handle = await openIfExists(path);
  if (!handle) return undefined;
  try {
    const st = await handle.stat();
    return { info: infoOf(st), data: await readAll(handle, 0, st.size) };
  } finally {
    await handle.close();
  }
}

async function readAll(handle: FileHandle, from: number, to: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(Math.max(0, to - from));
  let done = 0;
  while (done < out.length) {
    const { bytesRead } = await handle.read(out, done, out.length - done, from + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === out.length ? out : out.subarray(0, done);
}

/** The journal beside a snapshot of `generation`. */
export function journalPath(target: string, generation: string): string {
  return `${target}.${generation}.journal`;
}

/** Journal bytes from `offset`, with the file's inode (a replaced journal starts over). */
export async function readJournal(
  path: string,
  offset: number,
  known?: number,
): Promise<{ ino: number; size: number; chunk: Buffer } | undefined> {
  if (known !== undefined) {
    // The common case (nothing appended since): one stat, no open.
    let st: Stats;
    try {
      st = await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (st.ino === known && st.size === offset) {
      return { ino: st.ino, size: st.size, chunk: Buffer.alloc(0) };
    }
  }
  const handle = await openIfExists(path);
  if (!handle) return undefined;
  try {
    const st = await handle.stat();
    const chunk = st.size > offset ? await readAll(handle, offset, st.size) : Buffer.alloc(0);
    return { ino: st.ino, size: st.size, chunk };
  } finally {
    await handle.close();
  }
}

/** Where a reader of a journal stopped: its inode and size when read, and the bytes consumed. */
export interface JournalTail {
  readonly ino: number | undefined;
  readonly size: number;
  readonly offset: number;
}

/**
 * The journal bytes appended since `tail` (one stat when nothing was): `'missing'` when the file
 * is gone, `'replaced'` when it is another file now, or shorter than what was consumed, and must
 * be read anew.
 */
export async function readJournalOn(
  path: string,
  tail: JournalTail,
): Promise<{ ino: number; size: number; chunk: Buffer } | 'missing' | 'replaced'> {
  const read = await readJournal(
    path,
    tail.offset,
    tail.size === tail.offset ? tail.ino : undefined,
  );
  if (!read) return 'missing';
  if (tail.ino !== undefined && read.ino !== tail.ino) return 'replaced';
  if (read.size < tail.offset) return 'replaced';
  return read;
}

/**
 * Appends lines to the journal, each with a single write, synced before it returns; keeps the
 * file open between appends. Says where the file ends now, so the writer can tell whether its
 * line landed where it counted it.
 */
export class JournalWriter {
  #path: string | undefined;
  #handle: FileHandle | undefined;

  async append(
    path: string,
    data: Buffer,
    mode: number,
    fsync: boolean,
  ): Promise<{ ino: number; size: number }> {
    if (this.#path !== path) {
      await this.close();
      let handle: FileHandle;
      try {
        handle = await open(path, constants.O_WRONLY | constants.O_APPEND);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
        handle = await open(path, flags, mode);
        await handle.chmod(mode);
      }
      this.#path = path;
      this.#handle = handle;
    }
    const handle = this.#handle as FileHandle;
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done);
        done += bytesWritten;
      }
      if (fsync) await handle.datasync();
      const st = await handle.stat();
      return { ino: st.ino, size: st.size };
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#path = undefined;
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes `data` to a new temp file beside `target` (mode `mode`, owner kept when we can), and
 * syncs it. The caller renames it into place once it checked nothing changed meanwhile.
 */
export async function writeTemp(
  target: string,
  data: Buffer,
  mode: number,
  owner: { uid: number; gid: number } | undefined,
  fsync: boolean,
): Promise<string> {
  const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    // open() applies the umask; set the mode exactly (the existing file's, or 0600).
    await handle.chmod(mode);
    if (owner && process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
    await handle.writeFile(data);
    if (fsync) await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

/** Renames the temp file over the target and syncs the directory. */
export async function renameInto(temp: string, target: string, fsync: boolean): Promise<void> {
  await rename(temp, target);
  if (fsync) await syncDir(dirname(target));
}

async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
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

const TEMP_SUFFIX = /^\.\d+\.[0-9a-f]{12}\.tmp$/;
const JOURNAL_SUFFIX = /^\.([0-9a-f]{1,64})\.journal$/;

/**
 * Removes what earlier writers left behind: temp files of killed writers and journals of older
 * generations (folded into the snapshot). Only called while holding the lock, when no writer
 * that still holds it can be between its temp write and its rename.
 */
export async function removeLeftovers(target: string, keepGeneration?: string): Promise<void> {
  const base = basename(target);
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => {
        if (!name.startsWith(`${base}.`)) return false;
        const tail = name.slice(base.length);
        if (TEMP_SUFFIX.test(tail)) return true;
        const journal = JOURNAL_SUFFIX.exec(tail);
        return journal !== null && keepGeneration !== undefined && journal[1] !== keepGeneration;
      })
      .map((name) => rm(join(dirname(target), name), { force: true })),
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
