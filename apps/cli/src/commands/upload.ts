import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { UploadOutput } from '@falai/core';
import { MediaError } from '@falai/core';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';

/** Uploads a local file to fal storage and prints its URL. */
export default class Upload extends BaseCommand<typeof Upload> {
  static override summary = 'Upload a local file to fal storage and print its URL.';
  static override description =
    'Streams the file to fal storage (multipart for large files) and prints the URL, usable in any model input. Useful for files too large to send inline as data URIs.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./clip.mp4',
    '<%= config.bin %> <%= command.id %> ./photo.png --json',
  ];
  static override args = { path: Args.string({ required: true, description: 'Local file.' }) };

  async run(): Promise<UploadOutput> {
    const path = resolve(this.args.path);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new MediaError(`File not found: ${this.args.path}. Check the path.`, {
        details: { path },
      });
    }
    const client = await this.client();
    const tty = this.interactive && !this.flags.quiet;
    const uploaded = await client.upload(path, {
      onProgress: (sent, total) => {
        if (tty)
          process.stderr.write(
            `\r\x1b[2Kuploading ${Math.round((sent / Math.max(total, 1)) * 100)}%`,
          );
      },
    });
    if (tty) process.stderr.write('\r\x1b[2K');
    this.log(uploaded.url);
    return { path, url: uploaded.url, size: uploaded.size, contentType: uploaded.contentType };
  }
}
