import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  ConfigListOutputSchema,
  ErrorOutputSchema,
  RunOutputSchema,
  StatusOutputSchema,
} from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, createTestEnv, type TestEnv } from './helpers.js';

/**
 * A hostile fal: it echoes the caller's Authorization header (plainly and URL-encoded, in
 * either case) into log lines, results and error bodies, and puts terminal escapes and
 * control characters in everything it says. Nothing of the key, and no escape, reaches the
 * terminal or a --json document.
 */
const KEY_ID = `hostile-key-id-${randomBytes(4).toString('hex')}`;
const SECRET = `s3cr/t+Hostile=${randomBytes(8).toString('hex')}`;
const KEY = `${KEY_ID}:${SECRET}`;
/** Every form of the key a server might send back. */
const FORMS = [
  KEY,
  SECRET,
  KEY_ID,
  encodeURIComponent(KEY),
  encodeURIComponent(SECRET),
  encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (code) => code.toLowerCase()),
];
const ESCAPES = '\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\rforged\x9b1m\x07\x08\u202e';

let env: TestEnv;
let fal: Server;

/** What the hostile server puts in everything it says, given the request's headers. */
function echo(request: IncomingMessage): string {
  const auth = String(request.headers.authorization ?? '');
  const key = auth.replace(/^Key /, '');
  const lower = encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  return `${auth} ${encodeURIComponent(key)} ${lower} ${ESCAPES}`;
}

function send(response: ServerResponse, status: number, body: unknown): true {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
  return true;
}

function handle(request: IncomingMessage, response: ServerResponse): true {
  request.resume();
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const said = echo(request);
  const parts = url.pathname.split('/').filter(Boolean);
  const [owner, alias] = parts;
  const base = `http://127.0.0.1:${(fal.address() as AddressInfo).port}`;
  if (request.method === 'POST' && parts.length === 2) {
    if (alias === 'deny') return send(response, 403, { detail: `Key locked: ${said}` });
    const requestId = `${alias}-${randomBytes(4).toString('hex')}`;
    const prefix = `${base}/${owner}/${alias}/requests/${requestId}`;
    return send(response, 200, {
      request_id: requestId,
      status_url: `${prefix}/status`,
      response_url: prefix,
      cancel_url: `${prefix}/cancel`,
      queue_position: 0,
    });
  }
  if (url.pathname.endsWith('/status/stream')) return send(response, 404, { detail: said });
  if (url.pathname.endsWith('/status')) {
    return send(response, 200, {
      status: 'COMPLETED',
      logs: [
        { message: `plain ${said}`, level: 'INFO', timestamp: '2025-01-01T00:00:00Z' },
        { message: `multi\nline ${ESCAPES}`, level: 'INFO', timestamp: '2025-01-01T00:00:01Z' },
      ],
      ...(alias === 'fail' ? { error: `failed: ${said}`, error_type: 'runner_error' } : {}),
    });
  }
  if (alias === 'fail') {
    return send(response, 422, {
      detail: [{ loc: ['body', 'prompt'], msg: `refused ${said}`, type: 'value_error' }],
    });
  }
  return send(response, 200, {
    images: [
      {
        url: `${base}/files/out.png?token=${encodeURIComponent(KEY)}`,
        content_type: 'image/png',
      },
    ],
    echo: said,
    description: `done ${ESCAPES}`,
  });
}

beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
  fal = createServer(handle);
  await new Promise<void>((resolve) => fal.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => fal.close(() => resolve()));
  await env.close();
});

function hostile(args: readonly string[], extra: Record<string, string> = {}) {
  return env.run(args, {
    env: {
      FAL_KEY: KEY,
      FALAI_BASE_URL: `http://127.0.0.1:${(fal.address() as AddressInfo).port}`,
      ...extra,
    },
  });
}

/** No form of the key, and no control character but newline and tab, anywhere. */
function expectClean(result: CliResult): void {
  for (const [name, text] of [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ] as const) {
    for (const form of FORMS) {
      expect(text.includes(form), `${name} holds the key (${form.slice(0, 12)}…):\n${text}`).toBe(
        false,
      );
    }
    const control = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.exec(text);
    expect(control, `${name} holds a control character:\n${JSON.stringify(text)}`).toBeNull();
  }
}

describe('a fal that echoes the key and sends terminal escapes', () => {
  it('run --logs: log lines and the printed result hold neither', async () => {
    const result = await hostile(['run', 'acme/echo', '{"prompt":"x"}', '--logs', '--no-download']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('│ plain Key');
    expect(result.stderr).toContain('[redacted]');
    // A log line stays one line: a newline from fal cannot forge output.
    expect(result.stderr).toMatch(/│ multi line /);
    expect(result.stdout).toContain('"echo"');
    expectClean(result);
  });

  it('run --json: the result holds no key, in any encoding, and no raw control characters', async () => {
    const result = await hostile(['run', 'acme/echo', '{"prompt":"x"}', '--json', '--no-download']);
    expect(result.code).toBe(0);
    const output = result.json(RunOutputSchema);
    expect(JSON.stringify(output.result)).toContain('[redacted]');
    // Escapes survive as data (JSON escapes them), so nothing is lost for a program.
    expect(String((output.result as { description: string }).description)).toContain('\x1b[31m');
    expectClean(result);
  });

  it('status --logs, human and --json', async () => {
    const submitted = await hostile(['submit', 'acme/echo', '{"prompt":"x"}']);
    expect(submitted.code).toBe(0);
    const requestId = submitted.stdout.trim();
    const human = await hostile(['status', requestId, '--logs']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('plain Key');
    expectClean(human);
    const json = await hostile(['status', requestId, '--logs', '--json']);
    expect(json.json(StatusOutputSchema).logs).toHaveLength(2);
    expectClean(json);
  });

  it('errors quoting the key or escapes: a 422 result and a 403 submit, in both modes', async () => {
    for (const args of [
      ['run', 'acme/fail', '{"prompt":"x"}'],
      ['submit', 'acme/deny', '{"prompt":"x"}'],
    ]) {
      const human = await hostile(args);
      expect(human.code).not.toBe(0);
      expect(human.stderr).toMatch(/^Error: /m);
      expectClean(human);
      const json = await hostile([...args, '--json']);
      expect(json.code).toBe(human.code);
      expect(json.json(ErrorOutputSchema).error.message.length).toBeGreaterThan(0);
      expectClean(json);
    }
  });
});

describe('config list', () => {
  it('masks the password of a store URL, in the file values and the effective settings', async () => {
    const config = join(env.dir, 'hostile-config.json');
    const store = 'redis://falai:hunter2-store-password@127.0.0.1:6379/3';
    const set = await env.run(['config', 'set', 'store', store, '--config', config]);
    expect(set.code).toBe(0);
    expect(set.stdout).not.toContain('hunter2');
    const json = await env.run(['config', 'list', '--json', '--config', config], {
      env: { FALAI_STORE: undefined },
    });
    expect(json.code).toBe(0);
    const output = json.json(ConfigListOutputSchema);
    expect(json.stdout).not.toContain('hunter2');
    expect(output.values.store).toBe('redis://falai:****@127.0.0.1:6379/3');
    expect(output.effective.store?.value).toBe('redis://falai:****@127.0.0.1:6379/3');
    const human = await env.run(['config', 'list', '--config', config], {
      env: { FALAI_STORE: undefined },
    });
    expect(human.stdout).toContain('redis://falai:****@127.0.0.1:6379/3');
    expect(human.stdout).not.toContain('hunter2');
    const get = await env.run(['config', 'get', 'store', '--config', config, '--json']);
    expect(get.stdout).not.toContain('hunter2');
  });
});
