#!/usr/bin/env node
// Runs a command with a Redis the tests can use, and exits with the command's status.
//   node scripts/with-redis.mjs <command> [args…]
//
// - REDIS_URL set: used as it is (nothing is started).
// - Otherwise, a Redis answering PING on 127.0.0.1:6379 is used (REDIS_URL is set to it).
// - Otherwise a throwaway redis-server is started on a free port of 127.0.0.1 (no RDB, no
//   AOF, its folder under the OS temp dir), REDIS_URL points the command at it, and it is
//   stopped and its folder removed when the command ends, fails or is interrupted.
// FALAI_TEST_REDIS_PORT changes the port probed for a running Redis (to try the throwaway
// path on a machine that has one on 6379).
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: node scripts/with-redis.mjs <command> [args…]');
  process.exit(2);
}

/** Whether a Redis answers PING at host:port within `ms`. */
function pings(host, port, ms = 1500) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let answer = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** A port nobody listens on right now (the kernel's pick). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** redis-server on PATH or in the usual sbin folders. */
function findRedisServer() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts redis-server on a free port; resolves once it answers PING. */
async function startRedis(bin) {
  const dir = mkdtempSync(join(tmpdir(), 'falai-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const log = join(dir, 'redis.log');
    const child = spawn(
      bin,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--logfile',
        log,
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    );
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    child.once('error', () => {
      exited = true;
    });
    for (let i = 0; i < 100 && !exited; i++) {
      if (await pings('127.0.0.1', port, 500)) return { child, port, dir };
      await sleep(50);
    }
    if (!exited) child.kill('SIGKILL');
    let why = '';
    try {
      why = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n');
    } catch {}
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server (${bin}) did not start on 127.0.0.1:${port}.\n${why}`);
    }
  }
}

/** Stops the throwaway Redis (SIGTERM, then SIGKILL) and removes its folder. */
async function stopRedis(redis) {
  if (redis.child.exitCode === null && redis.child.signalCode === null) {
    const exited = new Promise((resolve) => redis.child.once('exit', resolve));
    redis.child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!stopped) redis.child.kill('SIGKILL');
  }
  rmSync(redis.dir, { recursive: true, force: true });
}

const env = { ...process.env };
let redis;
if (!env.REDIS_URL) {
  const probePort = Number(env.FALAI_TEST_REDIS_PORT || 6379);
  if (await pings('127.0.0.1', probePort)) {
    env.REDIS_URL = `redis://127.0.0.1:${probePort}`;
  } else {
    const bin = findRedisServer();
    if (!bin) {
      console.error(
        `with-redis: no Redis answers on 127.0.0.1:${probePort} and redis-server is not ` +
          'installed. Run `bash scripts/install.sh` (installs it with apt-get), install ' +
          'redis-server yourself, or set REDIS_URL to a Redis the tests may use.',
      );
      process.exit(1);
    }
    try {
      redis = await startRedis(bin);
    } catch (error) {
      console.error(`with-redis: ${error.message}`);
      process.exit(1);
    }
    env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
    console.error(`with-redis: started a throwaway Redis at ${env.REDIS_URL}`);
  }
}

// The command gets the terminal; Ctrl-C reaches it directly (same process group), and a
// SIGTERM or SIGHUP sent to this process is passed on. Either way this process waits for the
// command to end, then stops Redis.
const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env });
let signalled;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    signalled ??= signal;
    if (signal !== 'SIGINT') child.kill(signal);
  });
}
const [code, signal] = await new Promise((resolve) => {
  child.once('error', (error) => {
    console.error(`with-redis: cannot run ${command[0]}: ${error.message}`);
    resolve([127, null]);
  });
  child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
});
if (redis) {
  await stopRedis(redis);
  console.error(`with-redis: stopped the throwaway Redis at ${env.REDIS_URL}`);
}
const signals = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
const bySignal = signal ?? signalled;
process.exit(code ?? (bySignal ? 128 + (signals[bySignal] ?? 1) : 1));
