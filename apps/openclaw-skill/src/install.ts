import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, type EnvLike, FalaiError } from '@falai/core';
import { expandPath, openclawPaths } from '@falai/core/internal';
import { type BuildSkillOptions, type BuiltSkill, buildSkill } from './build.js';
import { SKILL_FILES, SKILL_NAME } from './constants.js';
import { exists } from './fs-util.js';

/** Options of {@link installSkill}: where to install, plus how to build. */
export interface InstallSkillOptions extends Omit<BuildSkillOptions, 'outDir' | 'force'> {
  /** Install into `<workspace>/skills/falai` (OpenClaw's highest-precedence root). */
  readonly workspace?: string;
  /** Install into `<state dir>/skills/falai`, shared by every agent (`openclaw-managed`). */
  readonly global?: boolean;
  /** Environment used to find OpenClaw's folders. @default process.env */
  readonly env?: EnvLike;
  /** Replace a `skills/falai` folder that is not a falai skill. @default false */
  readonly force?: boolean;
}

/** What {@link installSkill} did. */
export interface InstalledSkill extends BuiltSkill {
  /** `installed` (new) or `upgraded` (replaced an earlier falai skill). */
  readonly action: 'installed' | 'upgraded';
  /** The frontmatter version of the replaced skill, when there was one. */
  readonly previousVersion?: string;
  /** `openclaw-workspace` or `openclaw-managed`: the source OpenClaw will report. */
  readonly source: 'openclaw-workspace' | 'openclaw-managed';
}

/**
 * The folder the skill goes to. Default: the current OpenClaw workspace
 * (`OPENCLAW_WORKSPACE_DIR`, `OPENCLAW_STATE_DIR`, `OPENCLAW_PROFILE` rules of openclaw.md §2.1).
 */
export function skillInstallDir(
  options: Pick<InstallSkillOptions, 'workspace' | 'global' | 'env'>,
): string {
  const env = options.env ?? process.env;
  if (options.workspace && options.global) {
    throw new ConfigError('Use either --workspace or --global, not both.');
  }
  const paths = openclawPaths(env);
  if (options.global) return join(paths.stateDir, 'skills', SKILL_NAME);
  const workspace = options.workspace ? expandPath(options.workspace, env) : paths.workspaceDir;
  return join(resolve(workspace), 'skills', SKILL_NAME);
}

async function frontmatterField(dir: string, field: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(dir, SKILL_FILES.skillMd), 'utf8');
    const head = text.split(/\r?\n---\r?\n/, 1)[0] ?? '';
    const match = new RegExp(`^${field}:\\s*(.+)$`, 'm').exec(head);
    return match?.[1]?.trim().replace(/^["']|["']$/g, '');
  } catch {
    return undefined;
  }
}

/**
 * Installs or upgrades the skill folder. The new build is staged next to the target and
 * swapped in by rename, so OpenClaw's watcher never sees a half-written skill; dot-folders
 * of the old one (`.openclaw/`, `.clawhub/` origin records) are carried over.
 */
export async function installSkill(options: InstallSkillOptions = {}): Promise<InstalledSkill> {
  const target = skillInstallDir(options);
  const parent = resolve(target, '..');
  await mkdir(parent, { recursive: true });
  const hadTarget = await exists(target);
  let previousVersion: string | undefined;
  if (hadTarget) {
    const name = await frontmatterField(target, 'name');
    if (name !== SKILL_NAME && !options.force) {
      throw new FalaiError(
        'OUTPUT_EXISTS',
        `${target} exists but is not the falai skill${name ? ` (its name is "${name}")` : ''}; move it away or pass --force to replace it.`,
      );
    }
    previousVersion = await frontmatterField(target, 'version');
  }
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(parent, `.${SKILL_NAME}-staging-${suffix}`);
  const previous = join(parent, `.${SKILL_NAME}-previous-${suffix}`);
  let built: BuiltSkill;
  try {
    const { workspace: _w, global: _g, env: _e, force: _f, ...build } = options;
    built = await buildSkill({ ...build, outDir: staging });
    if (hadTarget) {
      for (const entry of await readdir(target)) {
        if (entry.startsWith('.')) {
          await cp(join(target, entry), join(staging, entry), { recursive: true });
        }
      }
      await rename(target, previous);
    }
    await rename(staging, target);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(previous, { recursive: true, force: true });
  }
  return {
    ...built,
    dir: target,
    action: hadTarget ? 'upgraded' : 'installed',
    ...(previousVersion ? { previousVersion } : {}),
    source: options.global ? 'openclaw-managed' : 'openclaw-workspace',
  };
}
