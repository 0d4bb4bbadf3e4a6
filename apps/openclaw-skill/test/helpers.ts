import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** A temp folder removed by `cleanup()`. */
export function tempDir(prefix = 'falai-skill-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A stand-in for the bundled CLI: prints what it was run with as JSON, so tests can see that
 * the wrapper set FALAI_SKILL before loading it. It reads FAL_KEY like the real bundle does.
 */
export function writeFakeBundle(path: string, extra = ''): string {
  writeFileSync(
    path,
    `#!/usr/bin/env node
const hasKey = Boolean(process.env.FAL_KEY);
${extra}
process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), skill: process.env.FALAI_SKILL, hasKey }) + '\\n');
`,
  );
  return path;
}

/** Splits SKILL.md into parsed frontmatter and body, using a real YAML parser. */
export function splitSkillMd(text: string): { frontmatter: Record<string, unknown>; body: string } {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  if (!match) throw new Error('SKILL.md has no frontmatter block');
  return {
    frontmatter: parseYaml(match[1] ?? '') as Record<string, unknown>,
    body: match[2] ?? '',
  };
}

/** Every line of every ```bash block: the commands SKILL.md tells the model to run. */
export function bashExamples(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/```bash\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? '').split('\n')) {
      if (line.trim() && !line.trim().startsWith('#')) commands.push(line.trim());
    }
  }
  return commands;
}

/** Runs `node <script> ...args` and returns exit code and output. */
export function runNode(
  script: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  const result = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Output of {@link runAsync}. */
export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a process without blocking the event loop (the emulator answers from this same
 * process, so a synchronous spawn would deadlock against it until the client times out).
 */
export function runAsync(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
