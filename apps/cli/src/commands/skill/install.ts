import type { InstalledSkill } from '@falai/openclaw-skill';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { registryModels } from './build.js';

/** Installs or upgrades the falai skill where OpenClaw loads skills from. */
export default class SkillInstall extends BaseCommand<typeof SkillInstall> {
  static override summary = 'Install or upgrade the falai skill for OpenClaw.';
  static override description =
    'Builds the skill and swaps it into <workspace>/skills/falai (default: the current OpenClaw workspace, from OPENCLAW_WORKSPACE_DIR / OPENCLAW_STATE_DIR / OPENCLAW_PROFILE) or, with --global, into ~/.openclaw/skills/falai for every agent. An existing falai skill is upgraded in place. Then store the key: openclaw config set skills.entries.falai.apiKey <key>.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --workspace ~/.openclaw/workspace',
    '<%= config.bin %> <%= command.id %> --global --json',
  ];
  static override flags = {
    workspace: Flags.string({
      description: 'Install into <dir>/skills/falai.',
      exclusive: ['global'],
    }),
    global: Flags.boolean({
      description: 'Install into <OpenClaw state dir>/skills/falai, shared by all agents.',
      exclusive: ['workspace'],
    }),
    'cli-bundle': Flags.string({
      description: 'The single-file CLI build to ship (default: the one this CLI came with).',
    }),
    force: Flags.boolean({ description: 'Replace a skills/falai folder that is not falai.' }),
  };

  async run(): Promise<InstalledSkill> {
    const { findCliBundle, installSkill } = await import('@falai/openclaw-skill');
    const cliBundlePath = findCliBundle({
      flag: this.flags['cli-bundle'],
      packageRoot: this.config.root,
      scriptPath: process.argv[1],
    });
    const installed = await installSkill({
      env: process.env,
      models: registryModels(await this.registry()),
      version: this.config.version,
      force: this.flags.force,
      ...(this.flags.workspace ? { workspace: this.flags.workspace } : {}),
      ...(this.flags.global ? { global: true } : {}),
      ...(cliBundlePath ? { cliBundlePath } : {}),
    });
    const from = installed.previousVersion ? ` (was ${installed.previousVersion})` : '';
    this.log(
      `${installed.action === 'upgraded' ? 'Upgraded' : 'Installed'} falai ${installed.version}${from} in ${installed.dir}`,
    );
    this.note('Store the key once: openclaw config set skills.entries.falai.apiKey <fal key>');
    this.note('Check it: openclaw skills info falai');
    return installed;
  }
}
