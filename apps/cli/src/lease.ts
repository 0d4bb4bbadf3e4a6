import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A lease owner id unique to this process: `hostname:pid:random`. */
export function leaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** How long a poller holds a request before another may take it over. */
export const LEASE_TTL_MS = 120_000;
