import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR, createTestEnv, RUN_JS, SECRET, type TestEnv } from './helpers.js';

/**
 * `falai mcp` end to end: the built CLI runs as a child process, driven by the MCP SDK's own
 * client over stdio and over Streamable HTTP, against the emulator on 127.0.0.1.
 */

const IMAGE = 'fal-ai/nano-banana-pro';
const VIDEO = 'fal-ai/kling-video/o3/pro/video-to-video/edit';
/** Held in fal's queue for a minute: a job that is still queued when it is cancelled. */
const QUEUED = 'fal-ai/flux/dev';
const TOOLS = [
  'search_models',
  'get_model_schema',
  'estimate_cost',
  'generate',
  'get_job_status',
  'get_job_result',
  'download_job_outputs',
  'list_jobs',
  'cancel_job',
];
/** generate waits 1 s in these tests; the video runs for 6 s, so it always outlives the wait. */
const SERVER_FLAGS = ['--wait', '1s', '--max-wait', '20s'];

let env: TestEnv;
let outDir: string;
let inputsDir: string;

beforeAll(async () => {
  env = await createTestEnv();
  outDir = join(env.dir, 'out');
  inputsDir = join(env.dir, 'inputs');
  await mkdir(inputsDir, { recursive: true });
  env.emulator?.setModel(VIDEO, { runMs: 6000 });
  env.emulator?.setModel(QUEUED, { queueMs: 60_000 });
});

afterAll(async () => {
  await env?.close();
});

/** A running `falai mcp` and a connected SDK client; `stderr` collects what the server said. */
interface Session {
  readonly client: Client;
  readonly stderr: () => string;
  close(): Promise<void>;
}

type Transport = 'stdio' | 'http';

/** Starts `falai mcp` (stdio or --http) as a child process and connects the SDK client. */
async function connect(kind: Transport, extraArgs: readonly string[] = []): Promise<Session> {
  const args = [
    RUN_JS,
    'mcp',
    '--output-dir',
    outDir,
    '--allow-dir',
    inputsDir,
    ...SERVER_FLAGS,
    ...extraArgs,
  ];
  const client = new Client({ name: 'falai-test', version: '1.0.0' }, { capabilities: {} });
  if (kind === 'stdio') {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args,
      env: env.baseEnv,
      cwd: env.dir,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    await client.connect(transport).catch((error: unknown) => {
      throw new Error(`falai mcp did not start: ${(error as Error).message}\n${stderr}`);
    });
    const pid = transport.pid;
    return {
      client,
      stderr: () => stderr,
      async close() {
        await client.close();
        if (pid) await exited(pid);
      },
    };
  }
  const child = spawn(process.execPath, [...args, '--http', '--port', '0', '--json'], {
    cwd: env.dir,
    env: env.baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolveUrl((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`falai mcp --http exited ${code}: ${stderr}`)));
  });
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return {
    client,
    stderr: () => stderr,
    async close() {
      await client.close();
      await stop(child);
    },
  };
}

/** Resolves once a process is gone. */
async function exited(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`process ${pid} did not exit`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise<void>((resolveGone) => child.once('exit', () => resolveGone()));
  child.kill('SIGTERM');
  await gone;
}

/** Calls a tool; the client checks structured content against the tool's output schema. */
async function call(
  session: Session,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult & { structuredContent?: Record<string, unknown> }> {
  const result = (await session.client.callTool({ name, arguments: args })) as CallToolResult;
  const text = JSON.stringify(result);
  expect(text).not.toContain(SECRET);
  return result as CallToolResult & { structuredContent?: Record<string, unknown> };
}

function textOf(result: CallToolResult): string {
  return result.content
    .filter((item) => item.type === 'text')
    .map((item) => (item as { text: string }).text)
    .join('\n');
}

/** POSTs the emulator received for an endpoint (submits). */
function submitsTo(endpointId: string): number {
  return (env.emulator?.log ?? []).filter(
    (entry) => entry.kind === 'submit' && entry.endpointId === endpointId,
  ).length;
}

/** The whole scenario of issue #17, on one transport. */
async function scenario(kind: Transport): Promise<void> {
  let session = await connect(kind);
  try {
    // Lists the tools, each with an input and an output schema.
    const { tools } = await session.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([...TOOLS].sort());
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
    }
    expect(tools.find((tool) => tool.name === 'generate')?.execution?.taskSupport).toBe('optional');

    // Searches fal's catalogue (the emulator's) and reads a schema and an estimate.
    const search = await call(session, 'search_models', { query: 'kling', limit: 20 });
    expect(search.isError).toBeFalsy();
    const models = search.structuredContent?.models as {
      endpointId: string;
      durationSeconds?: number;
    }[];
    expect(models.map((model) => model.endpointId)).toContain(VIDEO);
    expect(models.find((model) => model.endpointId === VIDEO)?.durationSeconds).toBe(300);
    const schema = await call(session, 'get_model_schema', { endpoint_id: VIDEO });
    expect(schema.structuredContent?.required).toEqual(
      expect.arrayContaining(['prompt', 'video_url']),
    );
    expect(schema.structuredContent?.fileFields).toContain('video_url');
    expect(
      (schema.structuredContent?.inputSchema as { properties?: object } | undefined)?.properties,
    ).toHaveProperty('video_url');
    const estimate = await call(session, 'estimate_cost', {
      endpoint_id: IMAGE,
      input: { prompt: 'a red fox' },
    });
    expect(estimate.isError, textOf(estimate)).toBeFalsy();
    expect(estimate.structuredContent).toMatchObject({
      endpointId: IMAGE,
      method: 'input',
      inputValid: true,
      currency: 'USD',
      units: 1,
    });
    const unitPrice = estimate.structuredContent?.unitPrice as { unitPrice: number; unit: string };
    expect(estimate.structuredContent?.estimate).toBeCloseTo(unitPrice.unitPrice, 6);
    expect(estimate.structuredContent?.basis).toContain(unitPrice.unit.replace(/s$/, ''));

    // Generates an image: completed within the wait, a saved file, the image inline.
    const image = await call(session, 'generate', {
      endpoint_id: IMAGE,
      input: { prompt: 'a red fox in the snow' },
      wait_seconds: 20,
    });
    expect(image.isError, textOf(image)).toBeFalsy();
    expect(image.structuredContent).toMatchObject({
      status: 'completed',
      done: true,
      endpointId: IMAGE,
      estimatedCostUsd: estimate.structuredContent?.estimate,
    });
    expect(image.structuredContent?.files, textOf(image) + session.stderr()).toBeDefined();
    const imageFiles = image.structuredContent?.files as { path: string; mime: string }[];
    expect(imageFiles).toHaveLength(1);
    const imageFile = imageFiles[0] as { path: string; mime: string };
    expect(imageFile.path.startsWith(outDir)).toBe(true);
    expect(imageFile.mime).toBe('image/png');
    const inline = image.content.find((item) => item.type === 'image') as
      | { data: string; mimeType: string }
      | undefined;
    expect(inline?.mimeType).toBe('image/png');
    const bytes = Buffer.from(inline?.data ?? '', 'base64');
    expect(bytes.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(bytes.equals(await readFile(imageFile.path))).toBe(true);

    // A slow video outlives the wait: the call returns its id, status, ETA and how to go on.
    const video = await call(session, 'generate', {
      endpoint_id: VIDEO,
      input: {
        prompt: 'the lighthouse at night',
        video_url: `${env.emulator?.url}/files/sample.mp4`,
      },
    });
    expect(video.isError, textOf(video)).toBeFalsy();
    const pending = video.structuredContent as {
      requestId: string;
      status: string;
      done: boolean;
      eta?: { seconds: number; basis: string };
      next: string;
    };
    expect(pending.done).toBe(false);
    expect(['queued', 'running']).toContain(pending.status);
    expect(pending.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(pending.eta?.basis).toContain('300 s');
    expect(pending.next).toContain('get_job_result');
    expect(pending.next).toContain(pending.requestId);
    expect(textOf(video)).toContain(pending.requestId);

    // The server goes away while the video runs; a new one finds the job in the store.
    await session.close();
    session = await connect(kind);
    const listed = await call(session, 'list_jobs', { status: 'pending' });
    expect(
      ((listed.structuredContent?.jobs ?? []) as { requestId: string }[]).map(
        (job) => job.requestId,
      ),
    ).toContain(pending.requestId);
    let finished: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 10 && !finished; attempt++) {
      const result = await call(session, 'get_job_result', {
        request_id: pending.requestId,
        wait_seconds: 20,
      });
      expect(result.isError, textOf(result)).toBeFalsy();
      if (result.structuredContent?.done) finished = result.structuredContent;
    }
    expect(finished).toMatchObject({ requestId: pending.requestId, status: 'completed' });
    const videoFiles = finished?.files as { path: string; mime: string; size: number }[];
    expect(videoFiles[0]?.mime).toBe('video/mp4');
    expect(videoFiles[0]?.path.startsWith(outDir)).toBe(true);
    expect((await stat(videoFiles[0]?.path ?? '')).size).toBe(videoFiles[0]?.size);
    // Asked again, the store answers.
    const again = await call(session, 'get_job_status', { request_id: pending.requestId });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent).toMatchObject({
      requestId: pending.requestId,
      status: 'completed',
    });

    // Cancels a job still in fal's queue.
    const queued = await call(session, 'generate', {
      endpoint_id: QUEUED,
      input: { prompt: 'never made' },
      wait_seconds: 0,
    });
    const queuedId = queued.structuredContent?.requestId as string;
    expect(queued.structuredContent?.done).toBe(false);
    const cancelled = await call(session, 'cancel_job', { request_id: queuedId });
    expect(cancelled.isError, textOf(cancelled)).toBeFalsy();
    expect(cancelled.structuredContent).toMatchObject({ requestId: queuedId, status: 'cancelled' });
    const afterCancel = await call(session, 'get_job_result', { request_id: queuedId });
    expect(afterCancel.isError).toBe(true);
    expect(afterCancel.structuredContent).toMatchObject({ status: 'cancelled', done: true });

    // A bad input is a tool error with the fix, and nothing is submitted.
    const before = submitsTo(IMAGE);
    const bad = await call(session, 'generate', {
      endpoint_id: IMAGE,
      input: { num_images: 99 },
    });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain('INPUT_INVALID');
    expect(textOf(bad)).toMatch(/prompt.*\(add "prompt"/);
    expect(bad.structuredContent).toBeUndefined();
    // So is an input over the cost cap the agent gave.
    const capped = await call(session, 'generate', {
      endpoint_id: IMAGE,
      input: { prompt: 'four foxes', num_images: 4 },
      max_cost_usd: 0.01,
    });
    expect(capped.isError).toBe(true);
    expect(textOf(capped)).toContain('BUDGET_EXCEEDED');
    expect(submitsTo(IMAGE)).toBe(before);

    for (const text of [session.stderr()]) expect(text).not.toContain(SECRET);
  } finally {
    await session.close();
  }
}

describe('falai mcp over stdio', () => {
  it('searches, generates an image, returns a slow video by id across a restart, cancels, refuses a bad input', async () => {
    await scenario('stdio');
  }, 180_000);

  it('refuses hostile arguments before anything is submitted', async () => {
    const session = await connect('stdio');
    try {
      const before = env.emulator?.log.length ?? 0;
      const badId = await call(session, 'get_job_status', { request_id: '../../etc/passwd' });
      expect(badId.isError).toBe(true);
      expect(textOf(badId)).toContain('Invalid request id');
      const badEndpoint = await call(session, 'generate', {
        endpoint_id: 'https://evil.test/x',
        input: { prompt: 'x' },
      });
      expect(textOf(badEndpoint)).toContain('Invalid endpoint id');
      const unknownArg = await call(session, 'list_jobs', { status: 'pending', sql: 'drop' });
      expect(unknownArg.isError).toBe(true);
      expect(textOf(unknownArg)).toContain(
        'Invalid arguments for list_jobs: sql: unknown argument',
      );
      // A local file outside the allowed folders is never read (nor uploaded).
      const secretFile = join(env.dir, 'home-secret.png');
      await writeFile(secretFile, Buffer.from('89504e470d0a1a0a', 'hex'));
      const outside = await call(session, 'generate', {
        endpoint_id: 'fal-ai/nano-banana-pro/edit',
        input: { prompt: 'x', image_urls: [secretFile] },
      });
      expect(outside.isError).toBe(true);
      expect(textOf(outside)).toContain('outside the folders this server may read');
      const leaving = await call(session, 'download_job_outputs', {
        request_id: '00000000-0000-4000-8000-000000000001',
        dir: '../../elsewhere',
      });
      expect(leaving.isError).toBe(true);
      expect(textOf(leaving)).toContain('leads out of the output folder');
      const submits = (env.emulator?.log ?? [])
        .slice(before)
        .filter((entry) => entry.kind === 'submit');
      expect(submits).toEqual([]);
    } finally {
      await session.close();
    }
  }, 60_000);

  it('answers the requests piped to it before stdin ended, then exits', async () => {
    const messages = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'pipe', version: '1' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'list_jobs', arguments: { limit: 1 } },
      },
    ];
    const result = await env.run(['mcp', '--output-dir', outDir], {
      stdin: `${messages.map((message) => JSON.stringify(message)).join('\n')}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    const answers = result.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { id: number; result: { structuredContent?: { store: string } } },
      );
    expect(answers.map((answer) => answer.id)).toEqual([1, 2]);
    expect(answers[1]?.result.structuredContent?.store).toBe(join(env.dir, 'pending.json'));
  }, 60_000);

  it('runs generate as an MCP task backed by the store, which a restarted server finishes', async () => {
    let session = await connect('stdio');
    let taskId: string | undefined;
    try {
      const stream = session.client.experimental.tasks.callToolStream(
        {
          name: 'generate',
          arguments: {
            endpoint_id: VIDEO,
            input: { prompt: 'a task', video_url: `${env.emulator?.url}/files/sample.mp4` },
          },
        },
        CallToolResultSchema,
        { task: { ttl: 600_000 } },
      );
      for await (const message of stream) {
        if (message.type === 'taskCreated') {
          taskId = message.task.taskId;
          break;
        }
        if (message.type === 'error') throw message.error;
      }
      expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
      const task = await session.client.experimental.tasks.getTask(taskId ?? '');
      expect(task.status).toBe('working');
      // The task is the store's request: the CLI sees it too.
      const list = await env.run(['list', '--json']);
      expect(list.stdout).toContain(taskId);
    } finally {
      await session.close();
    }
    session = await connect('stdio');
    try {
      let status = 'working';
      for (let attempt = 0; attempt < 100 && status === 'working'; attempt++) {
        status = (await session.client.experimental.tasks.getTask(taskId ?? '')).status;
        if (status === 'working') await new Promise((resolveWait) => setTimeout(resolveWait, 200));
      }
      expect(status).toBe('completed');
      const result = (await session.client.experimental.tasks.getTaskResult(
        taskId ?? '',
        CallToolResultSchema,
      )) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ requestId: taskId, status: 'completed' });
      const files = (result.structuredContent as { files: { path: string }[] }).files;
      expect(existsSync(files[0]?.path ?? '')).toBe(true);
      const { tasks } = await session.client.experimental.tasks.listTasks();
      expect(tasks.map((task) => task.taskId)).toContain(taskId);
      // tasks/cancel asks fal to cancel: a job still in fal's queue is removed.
      let queuedTask: string | undefined;
      for await (const message of session.client.experimental.tasks.callToolStream(
        { name: 'generate', arguments: { endpoint_id: QUEUED, input: { prompt: 'not this one' } } },
        CallToolResultSchema,
        { task: {} },
      )) {
        if (message.type === 'taskCreated') {
          queuedTask = message.task.taskId;
          break;
        }
        if (message.type === 'error') throw message.error;
      }
      const cancelled = await session.client.experimental.tasks.cancelTask(queuedTask ?? '');
      expect(cancelled).toMatchObject({ taskId: queuedTask, status: 'cancelled' });
      const record = await env.run(['status', queuedTask ?? '', '--json']);
      expect(JSON.parse(record.stdout)).toMatchObject({ status: 'cancelled' });
    } finally {
      await session.close();
    }
  }, 120_000);
});

describe('falai mcp over Streamable HTTP', () => {
  it('passes the same scenario', async () => {
    await scenario('http');
  }, 180_000);

  it('refuses a request whose Host is not the server (DNS rebinding)', async () => {
    const child = spawn(process.execPath, [RUN_JS, 'mcp', '--http', '--port', '0', '--json'], {
      cwd: env.dir,
      env: env.baseEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        child.once('exit', (code) => reject(new Error(`falai mcp --http exited ${code}`)));
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('\n'))
            resolveUrl((JSON.parse(out.split('\n')[0] ?? '') as { url: string }).url);
        });
      });
      const init = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'x', version: '1' },
        },
      };
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolveStatus, reject) => {
        const target = new URL(url);
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            headers: {
              host: 'evil.test',
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
            },
          },
          (res) => {
            res.resume();
            resolveStatus(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(init));
      });
      expect(status).toBe(403);
      const fromPage = await fetch(url, {
        method: 'POST',
        headers: {
          origin: 'http://evil.test',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify(init),
      });
      expect(fromPage.status).toBe(403);
    } finally {
      await stop(child);
    }
  }, 30_000);
});

describe('falai mcp --print-config', () => {
  it('prints a snippet per client, never with a key', async () => {
    for (const client of ['claude-desktop', 'cursor', 'windsurf', 'vscode']) {
      const result = await env.run(['mcp', '--print-config', client]);
      expect(result.code, result.stderr).toBe(0);
      const snippet = JSON.parse(result.stdout) as Record<
        string,
        Record<string, { command?: string; args?: string[] }>
      >;
      const servers = snippet.mcpServers ?? snippet.servers;
      expect(servers?.falai?.command).toBe('falai');
      expect(servers?.falai?.args).toEqual(['mcp']);
      expect(result.stdout).not.toContain('FAL_KEY');
    }
    const code = await env.run(['mcp', '--print-config', 'claude-code', '--output-dir', 'my out']);
    expect(code.stdout.trim()).toBe(
      `claude mcp add falai -- falai mcp --output-dir '${join(env.dir, 'my out')}'`,
    );
    const http = await env.run([
      'mcp',
      '--print-config',
      'cursor',
      '--http',
      '--port',
      '8811',
      '--json',
    ]);
    const config = JSON.parse(http.stdout) as { snippet: string; where: string };
    expect(JSON.parse(config.snippet)).toEqual({
      mcpServers: { falai: { url: 'http://127.0.0.1:8811/mcp' } },
    });
    expect(config.where).toContain('.cursor/mcp.json');
    const unknown = await env.run(['mcp', '--print-config', 'notepad']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('claude-desktop');
  });
});

describe('the MCP Inspector (an independent client) drives falai mcp', () => {
  const inspector = join(CLI_DIR, 'node_modules', '.bin', 'mcp-inspector');

  /** Runs the Inspector's CLI mode against `falai mcp` over stdio; returns its JSON answer. */
  async function inspect(args: readonly string[]): Promise<Record<string, unknown>> {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolveRun, reject) => {
        const child = spawn(
          inspector,
          ['--cli', process.execPath, RUN_JS, 'mcp', '--output-dir', outDir, ...args],
          { cwd: env.dir, env: env.baseEnv, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
        });
        child.on('error', reject);
        child.on('close', (code) => resolveRun({ code, stdout, stderr }));
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(SECRET);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it('lists the tools and calls search_models, generate and list_jobs', async () => {
    const listed = await inspect(['--method', 'tools/list']);
    expect((listed.tools as { name: string }[]).map((tool) => tool.name).sort()).toEqual(
      [...TOOLS].sort(),
    );
    const search = await inspect([
      '--method',
      'tools/call',
      '--tool-name',
      'search_models',
      '--tool-arg',
      'query=flux',
    ]);
    const found = (search.structuredContent as { models: { endpointId: string }[] }).models;
    expect(found.map((model) => model.endpointId)).toContain('fal-ai/flux/dev');
    const generated = await inspect([
      '--method',
      'tools/call',
      '--tool-name',
      'generate',
      '--tool-arg',
      `endpoint_id=${IMAGE}`,
      '--tool-arg',
      'input={"prompt":"a heron at dawn"}',
      '--tool-arg',
      'wait_seconds=20',
    ]);
    expect(generated.structuredContent).toMatchObject({ status: 'completed', endpointId: IMAGE });
    expect((generated.content as { type: string }[]).map((item) => item.type)).toContain('image');
    const jobs = await inspect([
      '--method',
      'tools/call',
      '--tool-name',
      'list_jobs',
      '--tool-arg',
      'limit=100',
    ]);
    const ids = (jobs.structuredContent as { jobs: { requestId: string }[] }).jobs.map(
      (job) => job.requestId,
    );
    expect(ids).toContain((generated.structuredContent as { requestId: string }).requestId);
  }, 120_000);
});
