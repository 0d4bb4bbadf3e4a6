import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ErrorOutputSchema, ListOutputSchema, SubmitOutputSchema } from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

/**
 * Hostile and exact input, end to end with the built CLI against the emulator (issue #11
 * items 1, 13 and 14): nothing that could pollute a prototype is ever sent, a mistyped field
 * never reaches fal without an explicit override, and 64-bit seeds arrive digit for digit.
 */
const NB = 'fal-ai/nano-banana-pro';
const FLUX = 'fal-ai/flux/dev/image-to-image';
const HOOK = 'http://attacker.example/hook';
const SEED = '17454220438242315174';

let env: TestEnv;
/** A pass-through proxy in front of the emulator that keeps each request body as sent. */
let proxy: Server;
let proxyUrl: string;
const rawBodies: { method: string; path: string; body: string }[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  const target = new URL(env.emulator!.url);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      rawBodies.push({ method: req.method ?? '', path: req.url ?? '', body: body.toString() });
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await env.close();
});

/** Submits seen by the emulator since the log was last cleared. */
const submits = () => env.emulator!.log.filter((entry) => entry.kind === 'submit');

async function storedRequests(): Promise<number> {
  const list = await env.run(['list', '--all', '--json']);
  return list.json(ListOutputSchema).requests.length;
}

describe('prototype pollution through input paths (#11 item 1)', () => {
  const cases: [name: string, args: string[], key: string][] = [
    [
      '--no-validate --set __proto__.webhookUrl',
      ['--set', 'prompt=x', '--no-validate', '--set', `__proto__.webhookUrl=${HOOK}`],
      '__proto__',
    ],
    ['--set __proto__.x', ['--set', 'prompt=x', '--set', '__proto__.x=1'], '__proto__'],
    ['--set prompt.__proto__.x', ['--set', 'prompt.__proto__.x=1'], '__proto__'],
    [
      '--set constructor.prototype.webhookUrl',
      ['--set', 'prompt=x', '--set', `constructor.prototype.webhookUrl=${HOOK}`],
      'constructor',
    ],
    [
      '--set with a JSON value holding __proto__',
      [
        '--set',
        'prompt=x',
        '--no-validate',
        '--set',
        `extra={"__proto__":{"webhookUrl":"${HOOK}"}}`,
      ],
      '__proto__',
    ],
    [
      'JSON input with an own __proto__ key',
      [`{"prompt":"x","__proto__":{"webhookUrl":"${HOOK}"}}`, '--no-validate'],
      '__proto__',
    ],
    [
      'JSON input with constructor.prototype deep inside',
      ['{"prompt":"x","extra":[{"constructor":{"prototype":{"webhookUrl":"x"}}}]}'],
      'constructor',
    ],
  ];

  it.each(cases)('%s: exit 4, INPUT_INVALID, nothing sent or stored', async (_name, args, key) => {
    env.emulator!.clearLog();
    for (const command of ['submit', 'run']) {
      const json = await env.run([command, NB, ...args, '--json']);
      expect(json.code, json.stdout + json.stderr).toBe(4);
      const { error } = json.json(ErrorOutputSchema);
      expect(error.code).toBe('INPUT_INVALID');
      expect(error.message).toContain(`the field name "${key}"`);
      expect(error.message).not.toContain('INTERNAL');
      const human = await env.run([command, NB, ...args]);
      expect(human.code).toBe(4);
      expect(human.stderr).toMatch(/^Error: Refusing the input: .*the field name/);
    }
    expect(submits()).toEqual([]);
    expect(env.emulator!.log.filter((entry) => entry.query.fal_webhook !== undefined)).toEqual([]);
    expect(await storedRequests()).toBe(0);
  });

  it('an input file holding __proto__ is refused the same way', async () => {
    env.emulator!.clearLog();
    const file = join(env.dir, 'hostile.json');
    await writeFile(file, `{"prompt":"x","__proto__":{"webhookUrl":"${HOOK}"}}`);
    const result = await env.run(['submit', NB, `@${file}`, '--no-validate', '--json']);
    expect(result.code).toBe(4);
    expect(result.json(ErrorOutputSchema).error.message).toContain(
      `the input in ${file}: the field name "__proto__"`,
    );
    expect(submits()).toEqual([]);
  });
});

describe('a mistyped field never costs money (#11 item 13)', () => {
  it('--set numimages=2 blocks with exit 4, shows the did-you-mean and the override', async () => {
    env.emulator!.clearLog();
    const json = await env.run([
      'submit',
      NB,
      '--set',
      'prompt=x',
      '--set',
      'numimages=2',
      '--json',
    ]);
    expect(json.code).toBe(4);
    const { error } = json.json(ErrorOutputSchema);
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.message).toContain(
      'Unknown field: numimages (the model does not declare it) (did you mean "num_images"?)',
    );
    expect(error.message).toContain('--force-input');
    expect(error.details).toMatchObject({ override: '--force-input' });
    const human = await env.run(['submit', NB, '--set', 'prompt=x', '--set', 'numimages=2']);
    expect(human.code).toBe(4);
    expect(human.stderr).toContain('send it as it is with --force-input');
    // Range and type problems the definition decides block the same way.
    const range = await env.run([
      'submit',
      FLUX,
      '--set',
      'prompt=x',
      '--set',
      'image_url=https://a.test/a.png',
      '--set',
      'num_inference_steps=5',
      '--json',
    ]);
    expect(range.code).toBe(4);
    expect(range.json(ErrorOutputSchema).error.message).toContain(
      'num_inference_steps must be between 10 and 50; got number 5',
    );
    expect(submits()).toEqual([]);
    expect(await storedRequests()).toBe(0);
  });

  it('--force-input sends it as written, with the problem as a warning', async () => {
    const result = await env.run([
      'submit',
      NB,
      '--set',
      'prompt=x',
      '--set',
      'numimages=2',
      '--force-input',
      '--json',
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const out = result.json(SubmitOutputSchema);
    expect(env.emulator!.job(out.requestId)?.input).toEqual({ prompt: 'x', numimages: 2 });
    expect(out.warnings).toContain(
      'Unknown field: numimages (the model does not declare it) (sent anyway: the override was given)',
    );
  });

  it('--help documents the override', async () => {
    for (const command of ['submit', 'run']) {
      const help = await env.run([command, '--help']);
      expect(help.stdout).toMatch(/--force-input\s+Send the input even where falai's model/);
    }
  });
});

describe('64-bit integers are sent exactly (#11 item 14)', () => {
  const viaProxy = () => ({ env: { FALAI_BASE_URL: proxyUrl } });

  it('--set seed and a JSON seed reach fal digit for digit and are stored exactly', async () => {
    const inputs: string[][] = [
      ['--set', 'prompt=x', '--set', 'image_url=https://a.test/a.png', '--set', `seed=${SEED}`],
      [`{"prompt":"x","image_url":"https://a.test/a.png","seed":${SEED}}`],
    ];
    for (const args of inputs) {
      rawBodies.length = 0;
      const result = await env.run(['submit', FLUX, ...args, '--json'], viaProxy());
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const posted = rawBodies.filter((entry) => entry.method === 'POST');
      expect(posted).toHaveLength(1);
      expect(posted[0]?.body).toContain(`"seed":${SEED}`);
      expect(posted[0]?.body).not.toContain('17454220438242314000');
      const { requestId } = result.json(SubmitOutputSchema);
      // Everything the file store wrote (its snapshot and any journal beside it).
      const files = (await readdir(env.dir)).filter((name) => name.startsWith('pending.json'));
      const store = (
        await Promise.all(files.map((name) => readFile(join(env.dir, name), 'utf8')))
      ).join('\n');
      expect(store).toContain(requestId);
      expect(store).toContain(SEED);
      expect(store).not.toContain('17454220438242314000');
    }
  });

  it('a value a field cannot hold is refused, never rounded', async () => {
    rawBodies.length = 0;
    const float = await env.run(
      [
        'submit',
        FLUX,
        '--set',
        'prompt=x',
        '--set',
        'image_url=https://a.test/a.png',
        '--set',
        `strength=${SEED}`,
        '--json',
      ],
      viaProxy(),
    );
    expect(float.code).toBe(4);
    expect(float.json(ErrorOutputSchema).error.message).toContain(
      `strength is a decimal number, which cannot hold ${SEED} exactly`,
    );
    const exponent = await env.run(
      [
        'submit',
        FLUX,
        '{"prompt":"x","image_url":"https://a.test/a.png","seed":1.7454220438242315174e19}',
        '--json',
      ],
      viaProxy(),
    );
    expect(exponent.code).toBe(4);
    expect(exponent.json(ErrorOutputSchema).error.message).toContain(
      'an integer beyond 2^53 written as a decimal or with an exponent, so its last digits are already lost',
    );
    expect(rawBodies.filter((entry) => entry.method === 'POST')).toEqual([]);
  });
});

describe('model files agree with fal (#12)', () => {
  it('an explicit null for an optional field is accepted and sent as null', async () => {
    const result = await env.run([
      'submit',
      NB,
      '{"prompt":"x","num_images":null}',
      '--set',
      'seed=null',
      '--json',
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const { requestId } = result.json(SubmitOutputSchema);
    expect(env.emulator!.job(requestId)?.input).toEqual({
      prompt: 'x',
      num_images: null,
      seed: null,
    });
  });

  it('Kling O3 edit takes shot_type "intelligent"; FLUX refuses strength 0', async () => {
    const kling = await env.run([
      'submit',
      'fal-ai/kling-video/o3/standard/video-to-video/edit',
      '--set',
      'prompt=@Video1 in snow',
      '--set',
      'video_url=https://a.test/v.mp4',
      '--set',
      'shot_type=intelligent',
      '--json',
    ]);
    expect(kling.code, kling.stdout + kling.stderr).toBe(0);
    const { requestId } = kling.json(SubmitOutputSchema);
    expect(env.emulator!.job(requestId)?.input).toMatchObject({ shot_type: 'intelligent' });
    const flux = await env.run([
      'submit',
      FLUX,
      '--set',
      'prompt=x',
      '--set',
      'image_url=https://a.test/a.png',
      '--set',
      'strength=0',
      '--json',
    ]);
    expect(flux.code).toBe(4);
    expect(flux.json(ErrorOutputSchema).error.message).toContain(
      'strength must be between 0.01 and 1; got number 0',
    );
  });
});
