import { describe, expect, it } from 'vitest';
import { boundHeap, type HeapControl } from '../src/heap.js';

const MiB = 1024 * 1024;
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A heap whose used size the test sets; collecting brings it down to `live`. */
function fakeHeap(live: number) {
  let used = live;
  const collections: number[] = [];
  const control: HeapControl = {
    used: () => used,
    collect: () => {
      collections.push(used);
      used = live;
    },
  };
  return { control, collections, grow: (bytes: number) => (used = bytes) };
}

describe('boundHeap (batch run and batch worker)', () => {
  it('collects when the used heap is past the floor and has doubled since the last collection', async () => {
    const heap = fakeHeap(40 * MiB);
    const stop = await boundHeap({ control: heap.control, floorBytes: 64 * MiB, intervalMs: 5 });
    try {
      await tick(30);
      expect(heap.collections).toEqual([]); // 40 MiB: under the floor
      heap.grow(70 * MiB);
      await tick(30);
      expect(heap.collections).toEqual([70 * MiB]); // past the floor: collected, back to 40
      heap.grow(75 * MiB);
      await tick(30);
      expect(heap.collections).toEqual([70 * MiB]); // under twice the 40 left after it
      heap.grow(81 * MiB);
      await tick(30);
      expect(heap.collections).toEqual([70 * MiB, 81 * MiB]);
    } finally {
      stop();
    }
    heap.grow(500 * MiB);
    await tick(30);
    expect(heap.collections).toHaveLength(2); // stopped: never again
  });

  it("with V8's own control, really collects: an unreachable object is gone", async () => {
    let target: object | undefined = { payload: new Array(1000).fill('x') };
    const ref = new WeakRef(target);
    target = undefined;
    const stop = await boundHeap({ floorBytes: 0, intervalMs: 5 });
    try {
      for (let i = 0; i < 100 && ref.deref() !== undefined; i++) await tick(10);
      expect(ref.deref()).toBeUndefined();
    } finally {
      stop();
    }
    // The program's own global is left as it was: gc is not exposed to it.
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
