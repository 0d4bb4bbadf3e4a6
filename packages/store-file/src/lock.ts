import { mkdir, rmdir, stat, utimes } from 'node:fs/promises';

/** A cross-process lock this process holds. */
export interface HeldLock {
  /**
   * True while the lock is still ours and fresh enough that no other process may break it
   * before we commit: same directory (inode), the mtime our heartbeat last set, and that mtime
   * younger than half the stale period. A writer that was paused (SIGSTOP, suspend, an I/O
   * stall) fails this check and must redo its change from the current file.
   *
   * No process breaks a lock younger than the stale period, so a lock refreshed less than half
   * of it ago is still ours; `thorough` also stats the lock, which catches two breakers of one
   * stale lock racing each other (a journal append does not need it: its sequence number makes
   * a second holder's line count for nobody).
   */
  verify(thorough?: boolean): Promise<boolean>;
  /** Stops the heartbeat and removes the lock if it is still ours. Never throws. */
  release(): Promise<void>;
}

/** How `acquireLock` waits and when it breaks a lock. */
export interface LockOptions {
  /** A lock whose mtime is older than this belongs to a dead or stalled process. */
  readonly staleMs: number;
  /** Give up (error code `ELOCKED`) after waiting this long. */
  readonly timeoutMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function lockedError(path: string): Error {
  const error = new Error(`Lock file is already being held: ${path}`) as NodeJS.ErrnoException;
  error.code = 'ELOCKED';
  return error;
}

/** Whether the stored mtime is the one we set (filesystems may keep whole seconds only). */
function sameMtime(stored: number, set: number): boolean {
  if (stored === set) return true;
  return stored % 1000 === 0 && Math.floor(set / 1000) * 1000 === stored;
}

/**
 * Takes the lock `<file>.lock`: a directory (mkdir is atomic) whose mtime is a heartbeat,
 * refreshed every quarter of the stale period while held. The same convention as
 * proper-lockfile, so older falai processes and this one exclude each other. A lock whose
 * mtime is older than `staleMs` is broken.
 */
export async function acquireLock(lockPath: string, options: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + options.timeoutMs;
  let wait = 2;
  for (;;) {
    try {
      await mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let mtimeMs: number | undefined;
    try {
      mtimeMs = (await stat(lockPath)).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (Date.now() - mtimeMs > options.staleMs) {
      // The holder died or stalled: break the lock. Two breakers racing may both think they
      // hold it; `verify` before every commit catches the loser.
      await rmdir(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) throw lockedError(lockPath);
    await sleep(Math.floor(wait / 2 + Math.random() * wait));
    wait = Math.min(wait * 1.5, 25);
  }

  let ino: number | bigint;
  let ours: number;
  try {
    // mkdir stamped the directory with the current time: that mtime is our first heartbeat.
    const st = await stat(lockPath);
    ino = st.ino;
    ours = st.mtimeMs;
  } catch (error) {
    await rmdir(lockPath).catch(() => undefined);
    throw error;
  }

  let lost = false;
  let released = false;
  /** When a thorough `verify` last found the lock ours and fresh. */
  let verifiedAt = 0;
  let beating: Promise<void> | undefined;

  const stillOurs = async (): Promise<boolean> => {
    if (lost) return false;
    try {
      const st = await stat(lockPath);
      if (st.ino === ino && sameMtime(st.mtimeMs, ours)) return true;
    } catch {
      // Gone: someone broke it.
    }
    lost = true;
    return false;
  };

  const beat = async (): Promise<void> => {
    if (released || !(await stillOurs())) return;
    const now = Date.now();
    try {
      await utimes(lockPath, now / 1000, now / 1000);
      const st = await stat(lockPath);
      if (st.ino !== ino) lost = true;
      else ours = st.mtimeMs;
    } catch {
      lost = true;
    }
  };

  const timer = setInterval(
    () => {
      beating ??= beat().finally(() => {
        beating = undefined;
      });
    },
    Math.max(100, Math.floor(options.staleMs / 4)),
  );
  timer.unref();

  return {
    async verify(thorough = true) {
      if (beating) await beating;
      if (lost || (thorough && !(await stillOurs()))) return false;
      // Old enough that someone may already have decided to break it: do not commit on it.
      const fresh = Date.now() - ours < options.staleMs / 2;
      if (fresh && thorough) verifiedAt = Date.now();
      return fresh;
    },
    async release() {
      released = true;
      clearInterval(timer);
      if (beating) await beating;
      // Verified moments ago with half the stale period to spare: still ours, skip the stat.
      const recent = !lost && Date.now() - verifiedAt < options.staleMs / 4;
      if (recent || (await stillOurs())) await rmdir(lockPath).catch(() => undefined);
    },
  };
}
