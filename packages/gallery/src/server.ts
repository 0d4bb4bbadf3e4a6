import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import type { PendingRecord } from '@falai/core';
import { type BuildGalleryOptions, buildGallery, type GallerySummary } from './build.js';
import { GalleryError } from './errors.js';

/** Options of {@link serveGallery}. */
export interface ServeGalleryOptions extends Omit<BuildGalleryOptions, 'records' | 'live'> {
  /**
   * Reads the records to show (e.g. `() => store.list({ status: 'completed' })`); called every
   * interval.
   */
  readonly load: () => Promise<readonly PendingRecord[]>;
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** How often the records are read again, in milliseconds. @default 1000 */
  readonly intervalMs?: number;
  /** Pages listening for updates at once; more get 503. @default 32 */
  readonly maxClients?: number;
  /** After every build that changed the content (the first one included). */
  readonly onBuild?: (summary: GallerySummary) => void;
  /** A read or build that failed; the last good site stays served and the next tick retries. */
  readonly onError?: (error: unknown) => void;
}

/** A running gallery server. */
export interface GalleryServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** The latest build. */
  readonly summary: GallerySummary;
  /** Reads the records and rebuilds now (what the timer does); resolves with the summary. */
  refresh(): Promise<GallerySummary>;
  /** Stops the timer, ends every event stream and closes the server. Idempotent. */
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.m4a': 'audio/mp4',
  '.flac': 'audio/flac',
  '.aac': 'audio/aac',
};

/** A stable digest of what decides the content: ids, statuses, update times, output paths. */
function fingerprint(records: readonly PendingRecord[]): string {
  const parts: string[] = [];
  for (const record of records) {
    if (record.status !== 'completed') continue;
    parts.push(
      `${record.requestId}\u0000${record.updatedAt}\u0000${(record.outputs ?? []).map((o) => o.path).join('\u0001')}`,
    );
  }
  return parts.sort().join('\n');
}

/**
 * Serves a gallery on 127.0.0.1 and keeps it current: the records are read every
 * `intervalMs`, the site is rebuilt (incrementally) when they changed, and every open page is
 * told through a server-sent event (`events`), after which it re-reads `index.json`. Only GET
 * and HEAD of files inside the site folder are answered (no dot files, no paths outside it);
 * requests naming another host are refused (DNS rebinding); video is served with byte ranges.
 */
export async function serveGallery(options: ServeGalleryOptions): Promise<GalleryServer> {
  const outDir = resolve(options.outDir);
  const intervalMs = Math.max(100, options.intervalMs ?? 1000);
  const maxClients = options.maxClients ?? 32;
  const {
    load,
    port: wanted = 0,
    onBuild,
    onError,
    intervalMs: _i,
    maxClients: _m,
    ...build
  } = options;

  let summary: GallerySummary;
  let lastPrint: string | undefined;
  let running: Promise<GallerySummary> | undefined;
  const rebuild = async (): Promise<GallerySummary> => {
    const records = await load();
    const print = fingerprint(records);
    if (print === lastPrint && summary) return summary;
    const next = await buildGallery({ ...build, outDir, records, live: true });
    lastPrint = print;
    const changed = !summary || next.version !== summary.version;
    summary = next;
    if (changed) {
      onBuild?.(next);
      broadcast(next);
    }
    return next;
  };
  const refresh = (): Promise<GallerySummary> => {
    running ??= rebuild().finally(() => {
      running = undefined;
    });
    return running;
  };

  const clients = new Set<ServerResponse>();
  const broadcast = (next: GallerySummary) => {
    const line = `event: update\ndata: ${JSON.stringify({ version: next.version, items: next.items })}\n\n`;
    for (const client of clients) client.write(line);
  };

  summary = await refresh();

  let port = 0;
  const hostAllowed = (host: string | undefined) =>
    host === `127.0.0.1:${port}` || host === `localhost:${port}`;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      onError?.(error);
      if (!response.headersSent) send(response, 500, 'Internal error\n');
      else response.destroy();
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (!hostAllowed(request.headers.host)) {
      send(response, 421, 'This gallery answers only to 127.0.0.1 and localhost.\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      send(response, 405, 'Method not allowed\n');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      send(response, 400, 'Bad path\n');
      return;
    }
    if (path === '/events') {
      openEvents(request, response);
      return;
    }
    if (path === '/') path = '/index.html';
    const parts = path.split('/').filter(Boolean);
    if (parts.some((part) => part.startsWith('.') || part.includes('\\') || part.includes('\0'))) {
      send(response, 404, 'Not found\n');
      return;
    }
    const file = resolve(outDir, ...parts);
    if (!file.startsWith(outDir + sep)) {
      send(response, 404, 'Not found\n');
      return;
    }
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      send(response, 404, 'Not found\n');
      return;
    }
    serveFile(request, response, file, info.size);
  };

  const openEvents = (request: IncomingMessage, response: ServerResponse) => {
    if (clients.size >= maxClients) {
      response.setHeader('Retry-After', '5');
      send(response, 503, 'Too many open pages\n');
      return;
    }
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    // The current version first, so a page built before a change it missed catches up.
    response.write(
      `retry: 2000\nevent: update\ndata: ${JSON.stringify({ version: summary.version, items: summary.items })}\n\n`,
    );
    clients.add(response);
    request.on('close', () => clients.delete(response));
    response.on('error', () => clients.delete(response));
  };

  const heartbeat = setInterval(() => {
    for (const client of clients) client.write(': ping\n\n');
  }, 15_000);
  heartbeat.unref();

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new GalleryError(
              'USAGE',
              `Port ${wanted} on 127.0.0.1 is already in use. Choose another with --port <n> (--port 0 picks a free one).`,
              { cause: error, details: { port: wanted } },
            )
          : error,
      );
    });
    server.listen(wanted, '127.0.0.1', () => resolveListen());
  }).catch((error: unknown) => {
    clearInterval(heartbeat);
    throw error;
  });
  port = (server.address() as AddressInfo).port;

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    timer = setTimeout(() => {
      refresh()
        .catch((error: unknown) => onError?.(error))
        .finally(() => {
          if (!closed) tick();
        });
    }, intervalMs);
  };
  tick();

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    get summary() {
      return summary;
    },
    refresh,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(heartbeat);
      for (const client of clients) client.end();
      clients.clear();
      await running?.catch(() => undefined);
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Sends a file, honouring one `Range: bytes=a-b` (browsers seek and loop video with them). */
function serveFile(
  request: IncomingMessage,
  response: ServerResponse,
  file: string,
  size: number,
): void {
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const name = file.slice(file.lastIndexOf(sep) + 1);
  const isIndex = name === 'index.html' || name === 'index.json';
  response.setHeader('Content-Type', type);
  response.setHeader('Accept-Ranges', 'bytes');
  response.setHeader('Cache-Control', isIndex ? 'no-store' : 'no-cache');
  let start = 0;
  let end = size - 1;
  const range = request.headers.range;
  if (range) {
    const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (match && (match[1] || match[2])) {
      if (match[1]) {
        start = Number(match[1]);
        end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
      } else {
        start = Math.max(0, size - Number(match[2]));
      }
    }
    if (!match || start > end || start >= size) {
      response.setHeader('Content-Range', `bytes */${size}`);
      send(response, 416, 'Range not satisfiable\n');
      return;
    }
    response.statusCode = 206;
    response.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  } else {
    response.statusCode = 200;
  }
  response.setHeader('Content-Length', size === 0 ? 0 : end - start + 1);
  if (request.method === 'HEAD' || size === 0) {
    response.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}
