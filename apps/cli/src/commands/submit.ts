import type { SubmitOutput } from '@falai/core';
import { BaseCommand } from '../base-command.js';
import { endpointArg, inputArg, submitFlags } from '../flags.js';
import { submitOutput } from '../submit-request.js';

/** Seed command: validate, handle local files, submit, record, print the request id. */
export default class Submit extends BaseCommand<typeof Submit> {
  static override summary = 'Submit a request to a model queue and record it as pending.';
  static override description =
    'Validates the input against the model, turns local file paths into data URIs or uploads, submits once, records the request in the store and prints its request id. Check it later with status, wait or poll.';
  static override examples = [
    `<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro '{"prompt":"a lighthouse at dusk"}'`,
    '<%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro/edit --set prompt="make it snow" --set image_urls=./photo.png',
    '<%= config.bin %> <%= command.id %> fal-ai/flux/dev/image-to-image @input.json --webhook https://example.com/hook',
    'cat input.json | <%= config.bin %> <%= command.id %> fal-ai/nano-banana-pro -',
  ];
  static override args = { endpoint: endpointArg(), input: inputArg() };
  static override flags = submitFlags();

  async run(): Promise<SubmitOutput> {
    const submitted = await this.submitFromFlags(this.args, this.flags);
    const { record } = submitted;
    this.log(record.requestId);
    this.note(
      `Submitted to ${record.endpointId}${record.queuePosition === undefined ? '' : ` (queue position ${record.queuePosition})`}. Next: falai wait ${record.requestId}  ·  falai poll`,
    );
    return submitOutput(submitted, (await this.store()).location);
  }
}
