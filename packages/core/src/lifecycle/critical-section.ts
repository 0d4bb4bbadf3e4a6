/** The signals a critical section holds back: Ctrl-C and a polite kill. */
export type DeferredSignal = 'SIGINT' | 'SIGTERM';

/** Every signal {@link criticalSection} defers. */
export const DEFERRED_SIGNALS: readonly DeferredSignal[] = ['SIGINT', 'SIGTERM'];

/** The shell's exit status for a process ended by a signal: 128 + its number. */
export const SIGNAL_EXIT_CODES: Readonly<Record<DeferredSignal, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

export interface CriticalSectionOptions {
  /**
   * Called as each signal arrives, with how many have arrived so far (1 for the first).
   * It runs inside the signal handler: keep it short; an error it throws is ignored.
   */
  readonly onSignal?: (signal: DeferredSignal, count: number) => void;
  /**
   * When the section ends with a signal held back: `true` (default) raises the first one
   * again at this process, so whatever would have happened (the program's own handlers, or
   * the default exit) happens now; `false` leaves it to the caller, who reads
   * `section.signal`.
   */
  readonly replay?: boolean;
}

/** What a running section knows about the signals it is holding back. */
export interface CriticalSection {
  /** The first signal that arrived while the section was open. */
  readonly signal: DeferredSignal | undefined;
  /** How many signals arrived while the section was open. */
  readonly count: number;
  /** Resolves once at least `count` signals have arrived in this section. */
  signals(count: number): Promise<DeferredSignal>;
}

type Listener = (...args: unknown[]) => void;

/**
 * Runs `fn` with SIGINT and SIGTERM held back: a signal that arrives meanwhile does not end
 * the process, nor reach the program's own handlers; it is remembered, reported through
 * `onSignal`, and (by default) raised again once `fn` has settled. For a step that must not
 * be cut in half, e.g. between paying for a request and writing down its id.
 *
 * The program's listeners are set aside for the duration and put back afterwards (ours is
 * added before any is removed, so the process never falls back to the default action in
 * between). Sections nest: an inner one holds the signal for the outer one.
 */
export async function criticalSection<T>(
  fn: (section: CriticalSection) => Promise<T>,
  options: CriticalSectionOptions = {},
): Promise<T> {
  let first: DeferredSignal | undefined;
  let count = 0;
  const waiters: { count: number; resolve: (signal: DeferredSignal) => void }[] = [];
  const section: CriticalSection = {
    get signal() {
      return first;
    },
    get count() {
      return count;
    },
    signals(wanted) {
      if (first !== undefined && count >= wanted) return Promise.resolve(first);
      return new Promise((resolve) => waiters.push({ count: wanted, resolve }));
    },
  };
  const arrived = (signal: DeferredSignal) => {
    count += 1;
    first ??= signal;
    try {
      options.onSignal?.(signal, count);
    } catch {
      // A reporting hook must never turn a held-back signal into a crash.
    }
    for (const waiter of waiters.filter((item) => item.count <= count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(first);
    }
  };
  const taken = DEFERRED_SIGNALS.map((name) => {
    const ours = () => arrived(name);
    process.on(name, ours);
    const others = process.rawListeners(name).filter((listener) => listener !== ours);
    for (const other of others) process.removeListener(name, other as Listener);
    return { name, ours, others };
  });
  try {
    return await fn(section);
  } finally {
    for (const { name, ours, others } of taken) {
      for (const other of others) process.on(name, other as Listener);
      process.removeListener(name, ours);
    }
    if (first !== undefined && options.replay !== false) process.kill(process.pid, first);
  }
}
