import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { assertFile, streamDataUri } from '../data-uri.js';

/** Seed command: a local image (or any file) as a base64 data URI. */
export default class ToDataUri extends BaseCommand<typeof ToDataUri> {
  static override summary = 'Print a local file as a base64 data URI.';
  static override description =
    'Encodes a file as data:<mime>;base64,… with the MIME type sniffed from its bytes (not its extension). Warns above 50 MB and refuses above 200 MB, like the seed; the URI is streamed, never held in memory. falai submit/run already do this for local paths in inputs.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./photo.jpg',
    '<%= config.bin %> <%= command.id %> ./photo.jpg --json',
  ];
  static override args = { path: Args.string({ required: true, description: 'Local file.' }) };

  /**
   * Streams the URI to stdout (inside the JSON object under `--json`) and returns nothing, so
   * oclif prints nothing more: a 200 MB file never sits in memory as one string.
   */
  async run(): Promise<void> {
    const path = await assertFile(this.args.path);
    const { encodeDataUri } = await import('@falai/core/internal');
    const warnings: string[] = [];
    // Limits and the MIME type are checked here, before anything is written.
    const encoding = await encodeDataUri(path, {
      onWarning: (warning: string) => {
        warnings.push(warning);
        this.note(`⚠️  ${warning}`);
      },
    });
    await streamDataUri(
      encoding,
      this.jsonEnabled() ? { path, mime: encoding.mime, size: encoding.size, warnings } : undefined,
    );
  }
}
