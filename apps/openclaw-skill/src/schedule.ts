import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, type EnvLike } from '@falai/core';
import { openclawPaths } from '@falai/core/internal';
import {
  POLL_AUTOMATION_CRON,
  POLL_AUTOMATION_NAME,
  SKILL_FILES,
  SKILL_NAME,
} from './constants.js';
import { shellQuote } from './render/format.js';

/** Name prefix of the per-session delivery automation. */
export const DELIVER_AUTOMATION_NAME = 'falai deliver';

/** One automation per session: creating it again updates it (a stable declaration key). */
export function deliverDeclarationKey(session: string): string {
  return `falai-deliver-${createHash('sha256').update(session).digest('hex').slice(0, 16)}`;
}

/** Options shared by {@link scheduleCommand} and {@link schedulePolling}. */
export interface ScheduleOptions {
  /**
   * How the automation invokes falai (a shell prefix; `poll --download --json` is appended).
   * @default `node '<skill>/scripts/falai.mjs'` when the skill is installed, else
   * `FALAI_SKILL=openclaw falai`
   */
  readonly falaiCommand?: string;
  /** @default '*\/5 * * * *' */
  readonly cron?: string;
  /** Automation name. @default 'falai poll' */
  readonly name?: string;
  /** The OpenClaw binary. @default 'openclaw' */
  readonly openclaw?: string;
  /** Environment for finding the workspace and running openclaw. @default process.env */
  readonly env?: EnvLike;
  /** The running script (`process.argv[1]`), to detect a run from inside the skill folder. */
  readonly scriptPath?: string;
  /**
   * The OpenClaw session key that asked. With it, the automation runs `skill deliver --session`
   * and announces its output (caption and `MEDIA:` lines) to that session; without it, it only
   * polls, posting nothing.
   */
  readonly session?: string;
}

/** The commands that set up polling, without running anything. */
export interface ScheduleCommand {
  /** The shell command the automation runs. */
  readonly pollCommand: string;
  /** The session the automation delivers to, when there is one. */
  readonly session?: string;
  /** `openclaw` arguments that create the automation. */
  readonly argv: readonly string[];
  /** The same as one copy-pasteable shell line. */
  readonly commandLine: string;
  /** The line for HEARTBEAT.md on OpenClaw versions before automations (pre-2026.9). */
  readonly heartbeatLine: string;
  /** The workspace the poll runs in (outputs and `fal-pending.json` live there). */
  readonly workspace: string;
}

/** What {@link schedulePolling} did. */
export interface ScheduleResult extends ScheduleCommand {
  /** `created`: the automation exists now; `manual`: run `commandLine` yourself. */
  readonly status: 'created' | 'manual';
  /** Whether a gateway answered `openclaw automations list`. */
  readonly gateway: boolean;
  /** Why nothing was created (no openclaw binary, gateway unreachable). */
  readonly reason?: string;
}

/**
 * The falai command the automation should run. Prefers the installed skill's script, run by
 * absolute path, because a gateway's `sh -lc` PATH may not include a global `falai`.
 */
export function resolveFalaiCommand(options: ScheduleOptions = {}): string {
  if (options.falaiCommand) return options.falaiCommand;
  const script = options.scriptPath;
  if (
    script &&
    basename(script) === basename(SKILL_FILES.wrapper) &&
    existsSync(join(dirname(script), '..', SKILL_FILES.skillMd))
  ) {
    return `node ${shellQuote(resolve(script))}`;
  }
  const env = options.env ?? process.env;
  const paths = openclawPaths(env);
  for (const root of [join(paths.workspaceDir, 'skills'), join(paths.stateDir, 'skills')]) {
    const wrapper = join(root, SKILL_NAME, SKILL_FILES.wrapper);
    if (existsSync(wrapper)) return `node ${shellQuote(wrapper)}`;
  }
  return 'FALAI_SKILL=openclaw falai';
}

/** Builds the `openclaw automations create …` command (openclaw.md §3.2) and the fallbacks. */
export function scheduleCommand(options: ScheduleOptions = {}): ScheduleCommand {
  const falai = resolveFalaiCommand(options);
  const workspace = openclawPaths(options.env ?? process.env).workspaceDir;
  const session = options.session;
  const pollCommand = session
    ? `${falai} skill deliver --session ${shellQuote(session)}`
    : `${falai} poll --download --json`;
  const argv = [
    'automations',
    'create',
    options.cron ?? POLL_AUTOMATION_CRON,
    '--name',
    options.name ?? (session ? `${DELIVER_AUTOMATION_NAME} ${session}` : POLL_AUTOMATION_NAME),
    '--command',
    pollCommand,
    '--command-cwd',
    workspace,
    '--declaration-key',
    session ? deliverDeclarationKey(session) : 'falai-poll',
    // Deliver: the command's stdout goes to the session that asked (empty stdout posts nothing).
    ...(session ? ['--announce', '--session-key', session] : ['--no-deliver']),
  ];
  const openclaw = options.openclaw ?? 'openclaw';
  return {
    pollCommand,
    ...(session ? { session } : {}),
    argv,
    commandLine: [openclaw, ...argv].map(shellQuote).join(' '),
    heartbeatLine: `- Collect finished fal.ai jobs: run \`${pollCommand}\` and send new outputs to the user.`,
    workspace,
  };
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly missing: boolean;
}

function run(command: string, args: readonly string[], env: EnvLike): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(command, args, {
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Our own timer, cleared on every outcome: spawn's `timeout` option stays armed after an
    // ENOENT and would keep the process alive for its whole duration.
    const timer = setTimeout(() => child.kill('SIGTERM'), 60_000);
    timer.unref();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({ code: null, stdout, stderr: error.message, missing: error.code === 'ENOENT' });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, missing: false });
    });
  });
}

/** First meaningful line of a failed openclaw run (its JSON error message, else stderr). */
function firstLine(result: Run): string {
  try {
    const parsed = JSON.parse(result.stdout) as { error?: { message?: string } };
    if (parsed.error?.message) return parsed.error.message.split('\n')[0] ?? '';
  } catch {}
  return (result.stderr || result.stdout).trim().split('\n')[0] ?? `exit ${result.code}`;
}

/**
 * Sets up polling without a model run: creates the OpenClaw automation when a gateway answers,
 * and otherwise returns the exact command (and the HEARTBEAT.md line for older OpenClaw).
 * The automation has a declaration key, so running this twice updates rather than duplicates.
 */
export async function schedulePolling(options: ScheduleOptions = {}): Promise<ScheduleResult> {
  const env = options.env ?? process.env;
  const planned = scheduleCommand(options);
  const openclaw = options.openclaw ?? 'openclaw';
  const probe = await run(openclaw, ['automations', 'list', '--json'], env);
  if (probe.missing) {
    return {
      ...planned,
      status: 'manual',
      gateway: false,
      reason: `${openclaw} is not on PATH; run the command where OpenClaw is installed.`,
    };
  }
  if (probe.code !== 0) {
    return {
      ...planned,
      status: 'manual',
      gateway: false,
      reason: `No OpenClaw gateway answered (${firstLine(probe)}); start it (openclaw gateway) and run the command.`,
    };
  }
  const created = await run(openclaw, planned.argv, env);
  if (created.code !== 0) {
    throw new ConfigError(
      `openclaw automations create failed: ${firstLine(created)}. Fix that and run: ${planned.commandLine}`,
    );
  }
  return { ...planned, status: 'created', gateway: true };
}
