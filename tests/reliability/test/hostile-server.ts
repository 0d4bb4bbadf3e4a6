import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * A small fal that lies: node:http on 127.0.0.x, speaking just enough of the queue protocol
 * (submit, status, status stream, result, cancel, and a CDN under `/cdn/`) for `falai run`,
 * `status` and `result`, honest by default; each test swaps in the hostile answers it needs.
 * It keeps what it was asked (never the Authorization header itself, which must not reach
 * the run folder the secrets scan reads).
 */

/** What a request was, by its path: fal's queue routes, the CDN, or anything else. */
export type RouteKind =
  | 'submit'
  | 'status'
  | 'stream'
  | 'result'
  | 'cancel'
  | 'file'
  | 'platform'
  | 'stray';

/** One request the server saw. */
export interface Seen {
  readonly kind: RouteKind;
  readonly method: string;
  /** The raw request target, as sent. */
  readonly target: string;
  readonly requestId?: string;
  readonly authorised: boolean;
}

/** What a handler may use to answer. */
export interface Ctx {
  /** `http://127.0.0.x:port` of this server. */
  readonly origin: string;
  /** The Authorization header as sent (for the key-echo answers), or ''. */
  readonly authorization: string;
  /** The request id in the path (status, stream, result, cancel) or the one submit returns. */
  readonly requestId: string;
  /** The endpoint base (`owner/app`) of a queue route; the full id at submit. */
  readonly base: string;
  /** For `file`: the name after `/cdn/`. */
  readonly file: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: Ctx) => void;

export interface HostileOptions {
  /** Bind address; another 127.0.0.x gives another host. @default 127.0.0.1 */
  readonly host?: string;
  /** The request_id the submit answer carries. @default a fresh UUID */
  readonly requestId?: string;
  /** Handlers that replace the honest ones. */
  readonly on?: Partial<Record<RouteKind, Handler>>;
}

export interface HostileFal {
  readonly origin: string;
  readonly requestId: string;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/** A real 800×600 PNG from the core fixtures. */
export const PNG = readFileSync(
  join(import.meta.dirname, '../../../packages/core/test/fixtures/media/image-800x600.png'),
);

export function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A proxy's or captive portal's page with HTTP 200. */
export function html(res: ServerResponse): void {
  const page =
    '<!doctype html><html><head><title>Sign in</title></head><body>Welcome to the hotel Wi-Fi</body></html>';
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page);
}

export function redirect(res: ServerResponse, location: string, status = 302): void {
  res.writeHead(status, { location, 'content-length': 0 });
  res.end();
}

/** Sends the headers (and `first` bytes, if any), then nothing more, ever. */
export function stall(res: ServerResponse, headers: OutgoingHttpHeaders, first?: Buffer): void {
  res.writeHead(200, headers);
  res.flushHeaders();
  if (first) res.write(first);
}

/**
 * Sends `head`, then `fill` bytes for as long as the client reads, or until `limit` bytes:
 * then `tail` ends the body, or, with `cut`, the connection is dropped (an "endless" body
 * that still cannot fill the disk of a client that has no cap).
 */
export function stream(
  res: ServerResponse,
  headers: OutgoingHttpHeaders,
  parts: { head?: string | Buffer; fill: Buffer; limit?: number; tail?: string; cut?: boolean },
): void {
  res.writeHead(200, headers);
  if (parts.head) res.write(parts.head);
  let sent = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const pump = () => {
    while (!closed) {
      if (parts.limit !== undefined && sent >= parts.limit) {
        if (parts.cut) res.destroy();
        else res.end(parts.tail ?? '');
        return;
      }
      sent += parts.fill.length;
      if (!res.write(parts.fill)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** fal's status object for a request, with whatever extra fields (`logs`, `error`) a test adds. */
export function statusBody(ctx: Ctx, status: string, extra: Record<string, unknown> = {}) {
  const base = `${ctx.origin}/${ctx.base}/requests/${ctx.requestId}`;
  return {
    status,
    request_id: ctx.requestId,
    response_url: base,
    status_url: `${base}/status`,
    cancel_url: `${base}/cancel`,
    ...(status === 'IN_QUEUE' ? { queue_position: 0 } : { logs: [] }),
    ...(status === 'COMPLETED' ? { metrics: { inference_time: 0.5 } } : {}),
    ...extra,
  };
}

/** A result with one PNG output served by this server's CDN. */
export function pngResult(ctx: Ctx, extra: Record<string, unknown> = {}) {
  return {
    images: [
      { url: `${ctx.origin}/cdn/out.png`, content_type: 'image/png', width: 800, height: 600 },
    ],
    seed: 42,
    ...extra,
  };
}

const honest: Record<RouteKind, Handler> = {
  submit: (_req, res, ctx) => json(res, 200, { ...statusBody(ctx, 'IN_QUEUE') }),
  status: (_req, res, ctx) => json(res, 200, statusBody(ctx, 'COMPLETED')),
  stream: (_req, res, ctx) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(`data: ${JSON.stringify(statusBody(ctx, 'COMPLETED'))}\n\n`);
  },
  result: (_req, res, ctx) => json(res, 200, pngResult(ctx), { 'x-fal-request-id': ctx.requestId }),
  cancel: (_req, res) => json(res, 400, { status: 'ALREADY_COMPLETED' }),
  file: (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
    res.end(PNG);
  },
  // A path no fal route has (e.g. `/requests/..` after normalisation): answered like a
  // finished request with no outputs, which is what made falai accept a wrong URL's answer.
  platform: (_req, res) =>
    json(res, 404, { error: { type: 'not_found', message: 'no Platform API here' } }),
  stray: (_req, res, ctx) => json(res, 200, { ...statusBody(ctx, 'COMPLETED'), images: [] }),
};

const QUEUE_ROUTE = /^\/(.+?)\/requests\/([^/?]*)(\/status\/stream|\/status|\/cancel)?\/?$/;

/** Starts a hostile (or, with no handlers, an honest) fal on 127.0.0.x. */
export async function startHostileFal(options: HostileOptions = {}): Promise<HostileFal> {
  const host = options.host ?? '127.0.0.1';
  const submitId = options.requestId ?? randomUUID();
  const seen: Seen[] = [];
  let origin = '';
  const server: Server = createServer((req, res) => {
    const target = req.url ?? '/';
    const path = target.split('?')[0] ?? '/';
    let kind: RouteKind = 'stray';
    let requestId = submitId;
    let base = '';
    let file = '';
    const queue = QUEUE_ROUTE.exec(path);
    if (path.startsWith('/v1/')) {
      // fal's Platform API (prices for the cost estimate): this fal has none.
      kind = 'platform';
    } else if (path.startsWith('/cdn/')) {
      kind = 'file';
      file = decodeURIComponent(path.slice('/cdn/'.length));
    } else if (queue) {
      base = queue[1] ?? '';
      requestId = decodeURIComponent(queue[2] ?? '');
      const tail = queue[3];
      if (tail === '/status/stream') kind = 'stream';
      else if (tail === '/status') kind = 'status';
      else if (tail === '/cancel') kind = 'cancel';
      else if (req.method === 'GET') kind = 'result';
    } else if (req.method === 'POST') {
      kind = 'submit';
      base = path.slice(1);
    }
    seen.push({
      kind,
      method: req.method ?? '',
      target,
      ...(kind === 'file' ? {} : { requestId }),
      authorised: typeof req.headers.authorization === 'string',
    });
    const ctx: Ctx = {
      origin,
      authorization: req.headers.authorization ?? '',
      requestId,
      base,
      file,
    };
    // Read (and drop) any request body before answering.
    req.resume();
    req.on('end', () => {
      const handler = options.on?.[kind] ?? honest[kind];
      try {
        handler(req, res, ctx);
      } catch (error) {
        res.destroy(error as Error);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  origin = `http://${host}:${address.port}`;
  return {
    origin,
    requestId: submitId,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server that accepts every connection and never sends a byte (a hung Redis). */
export async function startSilentServer(): Promise<{
  readonly port: number;
  readonly connections: () => number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createTcpServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // Read and ignore: the client's commands pile up unanswered.
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    port: address.port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
