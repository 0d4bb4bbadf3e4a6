// Scenario 4, media memory: peak RSS of `falai to-data-uri` (output to /dev/null) and of
// `falai upload` to an emulator running in its own process, each on a 200 MB file, next to
// the peak RSS of `falai --version` as the baseline of a CLI process. Peak RSS comes from
// GNU time (`%M`, kilobytes) around the child.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { round, run } from '../lib/util.mjs';

const KEY = 'bench-key-id:bench-key-secret';
const SIZE = 200 * 1000 * 1000;
const TIME = '/usr/bin/time';

/** Starts the emulator CLI in its own process and resolves with its URL and a stop function. */
function startEmulatorProcess(repoRoot, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'packages/emulator/bin/emulator.js'), '--port', '0', '--strict'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the emulator did not start: ${out}`));
    }, 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          stop: () =>
            new Promise((done) => {
              child.once('close', done);
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
  });
}

/** Runs a falai command under GNU time; resolves with peak RSS in MB and the exit code. */
async function peakRss(cli, args, env) {
  const out = await run(TIME, ['-f', 'maxrss=%M', process.execPath, cli, ...args], {
    env,
    discardStdout: true,
  });
  const match = /maxrss=(\d+)/.exec(out.stderr);
  if (!match) throw new Error(`no peak RSS from ${TIME}: ${out.stderr.slice(-500)}`);
  if (out.code !== 0)
    throw new Error(`falai ${args[0]} exited ${out.code}: ${out.stderr.slice(-500)}`);
  return Number(match[1]) / 1024;
}

/** @param {{ quick: boolean, repoRoot: string, tmpDir: string }} ctx */
export default async function run4(ctx) {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed to measure peak RSS`);
  const cli = join(ctx.repoRoot, 'apps/cli/bin/run.js');
  const file = join(ctx.tmpDir, 'big.bin');
  // Real bytes, not a sparse hole: a repeating non-zero pattern written in 8 MB blocks.
  const block = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 131 + 7) & 0xff;
  const fd = openSync(file, 'w');
  for (let written = 0; written < SIZE; written += block.length) {
    writeSync(fd, block, 0, Math.min(block.length, SIZE - written));
  }
  closeSync(fd);

  const env = {
    ...process.env,
    HOME: ctx.tmpDir,
    XDG_STATE_HOME: join(ctx.tmpDir, 'state'),
    XDG_CONFIG_HOME: join(ctx.tmpDir, 'config'),
    FALAI_STORE: `file:${join(ctx.tmpDir, 'pending.json')}`,
    FAL_KEY: KEY,
  };
  const rows = [];
  let dataUri;
  let upload;
  try {
    const baseline = await peakRss(cli, ['--version'], env);
    rows.push(['falai --version (baseline)', '-', round(baseline, 0)]);
    dataUri = await peakRss(cli, ['to-data-uri', file, '--quiet'], env);
    rows.push(['falai to-data-uri (stdout to /dev/null)', '200 MB', round(dataUri, 0)]);
    const emulator = await startEmulatorProcess(ctx.repoRoot, env);
    try {
      upload = await peakRss(cli, ['upload', file, '--quiet'], {
        ...env,
        FALAI_BASE_URL: emulator.url,
      });
    } finally {
      await emulator.stop();
    }
    rows.push(['falai upload (emulator in its own process)', '200 MB', round(upload, 0)]);
  } finally {
    rmSync(file, { force: true });
  }
  return {
    title: 'Media memory',
    description:
      'Peak resident memory of one falai process (GNU time %M) handling a 200 MB file of ' +
      'real (non-sparse) bytes; the emulator receiving the upload runs in a separate process ' +
      'and keeps the bytes on disk.',
    columns: ['command', 'file', 'peak RSS (MB)'],
    rows,
    targets: [
      {
        name: 'to-data-uri peak RSS',
        target: '<= 150 MB',
        measured: `${round(dataUri, 0)} MB`,
        pass: dataUri <= 150,
      },
      {
        name: 'upload peak RSS',
        target: '<= 150 MB',
        measured: `${round(upload, 0)} MB`,
        pass: upload <= 150,
      },
    ],
  };
}
