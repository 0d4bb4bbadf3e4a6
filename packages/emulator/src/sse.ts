import type { ServerResponse } from 'node:http';
import type { Job } from './jobs.js';
import { statusBody } from './status-body.js';

/** What the status stream needs from the emulator. */
export interface StreamContext {
  origin: string;
  keepAliveMs: number;
  queuePosition(job: Job): number;
  streams: Set<ServerResponse>;
}

/**
 * Serves `…/status/stream` (reference §4): one `data:` event per change, only new log lines
 * per event with logs=1, `: ping` comments as keep-alive, and the stream closes after the
 * COMPLETED event.
 */
export function serveStatusStream(
  job: Job,
  res: ServerResponse,
  includeLogs: boolean,
  context: StreamContext,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-fal-request-id': job.info.requestId,
  });
  res.flushHeaders();
  context.streams.add(res);
  let sentLogs = 0;
  let lastKey = '';
  const ping = setInterval(() => res.write(': ping\n\n'), context.keepAliveMs);
  const cleanup = () => {
    clearInterval(ping);
    job.changes.off('change', send);
    context.streams.delete(res);
  };
  function send(): void {
    if (res.destroyed || res.writableEnded) return;
    const newLogs = includeLogs ? job.info.logs.slice(sentLogs) : [];
    const position = job.info.status === 'IN_QUEUE' ? context.queuePosition(job) : -1;
    const key = `${job.info.status}:${position}`;
    if (key === lastKey && newLogs.length === 0) return;
    lastKey = key;
    sentLogs += newLogs.length;
    const body = statusBody(job, context.origin, position, newLogs);
    res.write(`data: ${JSON.stringify(body)}\n\n`);
    if (job.info.status === 'COMPLETED') {
      cleanup();
      res.end();
    }
  }
  job.changes.on('change', send);
  res.on('close', cleanup);
  send();
}
