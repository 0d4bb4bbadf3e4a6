/**
 * Keeps a long run's memory near what it holds. A batch runs thousands of short jobs, each
 * allocating a few hundred kilobytes (an HTTP exchange, a status stream, a record written and
 * read); much of it outlives a young-generation collection (a job lasts seconds) and dies in
 * the old generation, which V8 lets grow well past what is live before it collects: a
 * 10,000-row batch with ~25 MB live reached 250 MB resident. A full collection whenever the
 * used heap has doubled since the last one (and is past a floor) keeps it bounded; with a
 * small live heap each takes milliseconds.
 */

/** What {@link boundHeap} needs: how much of the heap is used, and a full collection. */
export interface HeapControl {
  readonly used: () => number;
  readonly collect: () => void;
}

/** Options of {@link boundHeap}. */
export interface BoundHeapOptions {
  /** No collection is asked for below this many used bytes. @default 64 MiB */
  readonly floorBytes?: number;
  /** How often the used heap is looked at. @default 500 ms */
  readonly intervalMs?: number;
  /** @default V8's own (heap statistics, and `gc` exposed for this process) */
  readonly control?: HeapControl;
}

/** V8's heap statistics and its full collection, or undefined where `gc` cannot be had. */
async function v8Control(): Promise<HeapControl | undefined> {
  const [v8, vm] = await Promise.all([import('node:v8'), import('node:vm')]);
  try {
    const exposed = typeof globalThis.gc === 'function';
    if (!exposed) v8.setFlagsFromString('--expose-gc');
    // A fresh context sees the flag; the program's own global is left as it was.
    const gc = exposed ? globalThis.gc : (vm.runInNewContext('gc') as unknown);
    if (!exposed) v8.setFlagsFromString('--no-expose-gc');
    if (typeof gc !== 'function') return undefined;
    return { used: () => v8.getHeapStatistics().used_heap_size, collect: () => gc() };
  } catch {
    return undefined;
  }
}

/**
 * Starts watching the heap: a full collection whenever the used heap has doubled since the
 * last one and is above `floorBytes`. Returns the function that stops watching. The timer never
 * keeps the process alive.
 */
export async function boundHeap(options: BoundHeapOptions = {}): Promise<() => void> {
  const control = options.control ?? (await v8Control());
  if (!control) return () => undefined;
  const floor = options.floorBytes ?? 64 * 1024 * 1024;
  let after = 0;
  const timer = setInterval(() => {
    if (control.used() <= Math.max(floor, after * 2)) return;
    control.collect();
    after = control.used();
  }, options.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}
