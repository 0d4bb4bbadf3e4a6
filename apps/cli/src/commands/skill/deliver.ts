import { pollRequests } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { outputTarget } from '../../output-names.js';

/** What `falai skill deliver --json` prints. */
export interface DeliverOutput {
  readonly session: string;
  readonly delivered: { requestId: string; endpointId: string; status: string }[];
  /** The chat text (caption and `MEDIA:` lines); empty when nothing finished. */
  readonly text: string;
}

/**
 * The command the OpenClaw automation runs: one poll pass, then the finished jobs of one chat
 * session, each at most once, as the text OpenClaw turns into media in that chat.
 */
export default class SkillDeliver extends BaseCommand<typeof SkillDeliver> {
  static override summary = 'Hand finished jobs of one chat session back to OpenClaw.';
  static override description =
    'Runs one poll pass (downloading outputs), then prints, for every finished request submitted with --session <key> and not delivered yet, a caption and one `MEDIA:<path>` line per output, and marks it delivered (each request once, even with overlapping runs). Prints nothing and exits 0 when nothing finished, so the OpenClaw automation posts nothing. `falai skill schedule --session <key>` creates the automation that runs it.';
  static override examples = ['<%= config.bin %> <%= command.id %> --session agent:main:main'];
  static override flags = {
    session: Flags.string({
      description: 'The OpenClaw session key the requests were submitted with (submit --session).',
      required: true,
    }),
  };

  async run(): Promise<DeliverOutput> {
    const [store, client, settings, skill] = await Promise.all([
      this.store(),
      this.client(),
      this.settings(),
      import('@falai/openclaw-skill'),
    ]);
    const session = this.flags.session;
    await pollRequests({
      store,
      client,
      download: {
        target: (record) =>
          outputTarget({
            defaultDir: settings.outputDir,
            requestId: record.requestId,
            endpointId: record.endpointId,
          }),
        settings,
      },
    });
    const taken = await skill.takeDeliveries({ store, session });
    const text = skill.renderDeliveries(taken);
    // Nothing finished: no output at all (an automation announces any stdout or stderr).
    if (text) for (const line of text.trimEnd().split('\n')) this.log(line);
    return {
      session,
      delivered: taken.map((record) => ({
        requestId: record.requestId,
        endpointId: record.endpointId,
        status: record.status,
      })),
      text,
    };
  }
}
