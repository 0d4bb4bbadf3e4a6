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

/** An open section, as the shared listener sees it. */
interface OpenSection {
  /** Opening order: a section opened after a signal arrived never holds that signal. */
  readonly sequence: number;
  /** Takes a signal; `since` is the last opening before it first arrived. */
  receive(signal: DeferredSignal, since: number): void;
}

/** The sections open now, innermost (most recently opened) last. */
const open: OpenSection[] = [];
let opened = 0;
/** While any section is open: our one listener per signal and the program's, set aside. */
let held: { name: DeferredSignal; ours: Listener; others: Listener[] }[] | undefined;

/**
 * Opens a section: the first one sets the program's listeners aside behind one listener that
 * hands each signal to the innermost open section; later ones (nested, or running at the same
 * time, e.g. a batch's concurrent submits) only join the list, so listeners never pile up.
 */
function enter(make: (sequence: number) => OpenSection): OpenSection {
  if (open.length === 0) {
    held = DEFERRED_SIGNALS.map((name) => {
      const ours = () => open.at(-1)?.receive(name, opened);
      process.on(name, ours);
      const others = process.rawListeners(name).filter((listener) => listener !== ours);
      for (const other of others) process.removeListener(name, other as Listener);
      return { name, ours, others: others as Listener[] };
    });
  }
  const section = make(++opened);
  open.push(section);
  return section;
}

/** Closes a section; the last one puts the program's listeners back. */
function leave(section: OpenSection): void {
  const index = open.lastIndexOf(section);
  if (index >= 0) open.splice(index, 1);
  if (open.length > 0 || !held) return;
  for (const { name, ours, others } of held) {
    for (const other of others) process.on(name, other);
    process.removeListener(name, ours);
  }
  held = undefined;
}

/**
 * Passes on a signal a section held back, once it has ended: to the innermost section that was
 * already open when the signal arrived (it was holding the step it guards too), else to the
 * program — raised again when no section is open, or given to the program's own listeners at
 * once when sections opened since are still open (they never saw it and must not hold it, or a
 * steady stream of new sections would keep it from the program forever). A program without a
 * handler of its own would end at once, mid-section: the open sections hold it instead.
 */
function passOn(signal: DeferredSignal, since: number): void {
  const older = open.findLast((section) => section.sequence <= since);
  if (older) {
    older.receive(signal, since);
    return;
  }
  const aside = held?.find((entry) => entry.name === signal);
  if (!aside) {
    process.kill(process.pid, signal);
    return;
  }
  if (aside.others.length === 0) {
    // No handler of the program's: its default is to end the process, which would cut the
    // open sections in half; they hold it instead, as the first one did.
    open.at(-1)?.receive(signal, opened);
    return;
  }
  for (const listener of [...aside.others]) {
    // A `once` listener (its wrapper carries `listener`) is spent by this call: not put back.
    if ('listener' in listener) aside.others.splice(aside.others.indexOf(listener), 1);
    try {
      listener.call(process, signal);
    } catch {
      // As with an emitted event, one listener's error must not stop the others.
    }
  }
}

/**
 * Runs `fn` with SIGINT and SIGTERM held back: a signal that arrives meanwhile does not end
 * the process, nor reach the program's own handlers; it is remembered, reported through
 * `onSignal`, and (by default) raised again once `fn` has settled. For a step that must not
 * be cut in half, e.g. between paying for a request and writing down its id.
 *
 * The program's listeners are set aside while any section is open and put back when the last
 * one closes (ours is added before any is removed, so the process never falls back to the
 * default action in between). A signal goes to the innermost open section; raised again at its
 * end, it goes to the next section that was open when it arrived, then to the program: sections
 * nest (an inner one holds the signal for the outer one), and of sections running at the same
 * time (a batch's submits) only those already open hold it back, never ones opened later.
 */
export async function criticalSection<T>(
  fn: (section: CriticalSection) => Promise<T>,
  options: CriticalSectionOptions = {},
): Promise<T> {
  let first: DeferredSignal | undefined;
  let since = 0;
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
  const entry = enter((sequence) => ({
    sequence,
    receive(signal, at) {
      if (first === undefined) since = at;
      arrived(signal);
    },
  }));
  try {
    return await fn(section);
  } finally {
    leave(entry);
    if (first !== undefined && options.replay !== false) passOn(first, since);
  }
}
