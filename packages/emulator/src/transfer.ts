import type { IncomingMessage, ServerResponse } from 'node:http';

/** How one upload or download moves: a bandwidth cap and/or a stall after some bytes. */
export interface TransferShape {
  /** Bytes per second; undefined means as fast as the machine goes. */
  bandwidth?: number | undefined;
  /** Stop after this many body bytes: send (or read) no more, never finish. */
  stallAfter?: number | undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Re-chunks a byte stream and spaces the pieces so that it moves at `bytesPerSecond`. Reading
 * an upload through this slows the sender by TCP back-pressure, so both directions of a slow
 * link can be tested.
 */
export async function* paced(
  source: AsyncIterable<Buffer | string>,
  bytesPerSecond: number | undefined,
): AsyncGenerator<Buffer> {
  if (!bytesPerSecond || !Number.isFinite(bytesPerSecond)) {
    for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    return;
  }
  // Pieces of about 50 ms each keep the rate smooth without thousands of timers.
  const slice = Math.max(1, Math.floor(bytesPerSecond / 20));
  const started = performance.now();
  let sent = 0;
  for await (const raw of source) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    for (let offset = 0; offset < chunk.length; offset += slice) {
      const piece = chunk.subarray(offset, offset + slice);
      sent += piece.length;
      const due = started + (sent / bytesPerSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      yield piece;
    }
  }
}

/** Waits until `res` can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streams a response body at the transfer's pace. With `stallAfter`, it writes that many bytes
 * and then leaves the response open without another byte (a stalled download).
 */
export async function sendBody(
  source: AsyncIterable<Buffer | string>,
  res: ServerResponse,
  shape: TransferShape,
): Promise<void> {
  let written = 0;
  const limit = shape.stallAfter;
  for await (const piece of paced(source, shape.bandwidth)) {
    if (res.destroyed) return;
    const room = limit === undefined ? piece.length : Math.max(0, limit - written);
    const part = room < piece.length ? piece.subarray(0, room) : piece;
    if (part.length > 0 && !res.write(part)) await drained(res);
    written += part.length;
    if (limit !== undefined && written >= limit) return;
  }
  if (limit !== undefined) return;
  res.end();
}

/**
 * A stalled upload: reads `afterBytes` of the body, then stops reading and never answers. The
 * sender's writes block once the socket buffers fill; only its own timeout (or the emulator
 * closing) ends the request.
 */
export function stallUpload(req: IncomingMessage, afterBytes: number): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    if (afterBytes <= 0) {
      req.pause();
      resolve(0);
      return;
    }
    const finish = () => {
      req.off('data', onData);
      req.pause();
      resolve(got);
    };
    const onData = (chunk: Buffer) => {
      got += chunk.length;
      if (got >= afterBytes) finish();
    };
    req.on('data', onData);
    req.once('end', finish);
    req.once('close', finish);
  });
}
