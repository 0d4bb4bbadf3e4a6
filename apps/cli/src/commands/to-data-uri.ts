import type { DataUriOutput } from '@falai/core';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { assertFile } from '../data-uri.js';

/** Seed command: a local image (or any file) as a base64 data URI. */
export default class ToDataUri extends BaseCommand<typeof ToDataUri> {
  static override summary = 'Print a local file as a base64 data URI.';
  static override description =
    'Encodes a file as data:<mime>;base64,… with the MIME type sniffed from its bytes (not its extension). Warns above 50 MB and refuses above 200 MB, like the seed. falai submit/run already do this for local paths in inputs.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./photo.jpg',
    '<%= config.bin %> <%= command.id %> ./photo.jpg --json',
  ];
  static override args = { path: Args.string({ required: true, description: 'Local file.' }) };

  async run(): Promise<DataUriOutput> {
    const path = await assertFile(this.args.path);
    const { toDataUri } = await import('@falai/core');
    const warnings: string[] = [];
    const encoded = await toDataUri(path, {
      onWarning: (warning: string) => {
        warnings.push(warning);
        this.note(`⚠️  ${warning}`);
      },
    });
    this.log(encoded.uri);
    return {
      path,
      uri: encoded.uri,
      mime: encoded.mime,
      size: encoded.size,
      digest: encoded.digest,
      warnings,
    };
  }
}
