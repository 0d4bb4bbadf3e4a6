import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FalaiError } from '../errors/index.js';

/** Options of {@link createWebhookServer}. */
export interface WebhookServerOptions {
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' — expose it deliberately (a tunnel, a reverse proxy). */
  readonly host?: string;
  readonly handler: (request: IncomingMessage, response: ServerResponse) => void;
}

/** A running receiver. */
export interface WebhookServer {
  /** `http://host:port/`, the URL to pass as `--webhook` (through whatever exposes it). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, waits for in-flight deliveries; idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a webhook handler over node:http. Kept apart from the handler so the handler can be
 * mounted in an existing server (Express, Fastify's raw listener, a test server) instead.
 */
export async function createWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const host = options.host ?? '127.0.0.1';
  // Imported here: node:http costs ~1 ms to load, which CLI start-up should not pay.
  const { createServer } = await import('node:http');
  const server = createServer(options.handler);
  // Deliveries are small and fal opens fresh connections; don't hold idle ones at close.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new FalaiError(
          'CONFIG_INVALID',
          error.code === 'EADDRINUSE'
            ? `Port ${options.port} on ${host} is already in use; pick another with --port.`
            : `Could not listen on ${host}:${options.port ?? 0}: ${error.message}.`,
          { cause: error },
        ),
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
