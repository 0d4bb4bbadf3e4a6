import type { ScheduleResult } from '@falai/openclaw-skill';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';

/** Sets up polling of pending requests without a model run (an OpenClaw automation). */
export default class SkillSchedule extends BaseCommand<typeof SkillSchedule> {
  static override summary = 'Poll pending requests in the background with an OpenClaw automation.';
  static override description =
    'Creates the OpenClaw automation "falai poll" (every 5 minutes: falai poll --download --json, in the workspace, no chat delivery), or with --session <key> "falai deliver <key>" (falai skill deliver --session <key>, announced to that session), when an OpenClaw gateway is reachable. Otherwise prints the exact `openclaw automations create` command to run later, and the HEARTBEAT.md line for OpenClaw versions before automations. Running it again updates the same automation.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --cron "*/2 * * * *" --json',
    '<%= config.bin %> <%= command.id %> --print',
    '<%= config.bin %> <%= command.id %> --session agent:main:main',
  ];
  static override flags = {
    cron: Flags.string({
      description: 'How often to poll (5-field cron).',
      default: '*/5 * * * *',
    }),
    name: Flags.string({
      description: 'Automation name (default "falai poll", or "falai deliver <session>").',
    }),
    'falai-command': Flags.string({
      description:
        'How the automation runs falai (default: the installed skill script, else FALAI_SKILL=openclaw falai).',
    }),
    print: Flags.boolean({ description: 'Only print the command; create nothing.' }),
    session: Flags.string({
      description:
        'The OpenClaw session key that asked: the automation runs `falai skill deliver --session <key>` and announces finished jobs (their MEDIA: lines) to that session, posting nothing when nothing finished.',
    }),
  };

  async run(): Promise<ScheduleResult> {
    const { scheduleCommand, schedulePolling } = await import('@falai/openclaw-skill');
    const options = {
      env: process.env,
      cron: this.flags.cron,
      ...(this.flags.name ? { name: this.flags.name } : {}),
      ...(this.flags.session ? { session: this.flags.session } : {}),
      ...(process.argv[1] ? { scriptPath: process.argv[1] } : {}),
      ...(this.flags['falai-command'] ? { falaiCommand: this.flags['falai-command'] } : {}),
    };
    const result: ScheduleResult = this.flags.print
      ? { ...scheduleCommand(options), status: 'manual', gateway: false, reason: '--print' }
      : await schedulePolling(options);
    if (result.status === 'created') {
      this.log(`Created the OpenClaw automation: ${result.pollCommand}`);
    } else {
      if (result.reason && result.reason !== '--print') this.note(result.reason);
      this.log('Create the automation with:');
      this.log(`  ${result.commandLine}`);
      this.log('On OpenClaw before automations, add this line to HEARTBEAT.md instead:');
      this.log(`  ${result.heartbeatLine}`);
    }
    return result;
  }
}
