import { InputError } from '@falai/core';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { assertFile, streamDataUri } from '../data-uri.js';

const DEFAULT_MODEL = 'fal-ai/kling-video/o3/pro/video-to-video/edit';

/** Seed command: a local video as a data URI, checked against the model's video limits. */
export default class VideoToUri extends BaseCommand<typeof VideoToUri> {
  static override summary = "Print a local video as a data URI after checking the model's limits.";
  static override description =
    `Reads the MP4/MOV container (duration, width, height, size) and checks it against the video limits of --model (default ${DEFAULT_MODEL}: .mp4/.mov, duration, 720–2160 px, 200 MB), then prints the data URI. Every problem is listed at once.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./clip.mp4',
    '<%= config.bin %> <%= command.id %> ./clip.mov --model fal-ai/kling-video/o3/standard/video-to-video/edit --json',
  ];
  static override args = {
    path: Args.string({ required: true, description: 'Local MP4 or MOV file.' }),
  };
  static override flags = {
    model: Flags.string({
      char: 'm',
      description: "Check against this model's limits.",
      default: DEFAULT_MODEL,
    }),
  };

  /** Checks the video, then streams its URI to stdout like `to-data-uri` (nothing returned). */
  async run(): Promise<void> {
    const path = await assertFile(this.args.path);
    const registry = await this.registry();
    const { checkVideoLimits, encodeDataUri, probeVideo, videoLimitsFor } = await import(
      '@falai/core/internal'
    );
    const probe = await probeVideo(path);
    const limits = videoLimitsFor(registry, this.flags.model);
    const warnings: string[] = [];
    if (limits) {
      const issues = checkVideoLimits(probe, limits);
      if (issues.length > 0) {
        const lines = issues.map(
          (issue) => `   - ${issue.message}${issue.hint ? ` (${issue.hint})` : ''}`,
        );
        throw new InputError(
          `${this.args.path} is outside the limits of ${this.flags.model}:\n${lines.join('\n')}`,
          issues,
          { code: 'INPUT_INVALID' },
        );
      }
    } else {
      warnings.push(`${this.flags.model} declares no video limits; nothing was checked.`);
    }
    const encoding = await encodeDataUri(path, {
      ...(limits?.maxBytes ? { maxBytes: limits.maxBytes } : {}),
      onWarning: (warning: string) => warnings.push(warning),
    });
    for (const warning of warnings) this.note(`⚠️  ${warning}`);
    await streamDataUri(
      encoding,
      this.jsonEnabled()
        ? {
            path,
            mime: encoding.mime,
            size: encoding.size,
            warnings,
            video: {
              container: probe.container,
              durationSeconds: probe.durationSeconds,
              width: probe.width,
              height: probe.height,
            },
          }
        : undefined,
    );
  }
}
