import type { InputIssue } from '../errors/falai-error.js';
import { fieldLabel } from '../json/values.js';
import { formatBytes } from './bytes.js';
import type { VideoProbe } from './probe-video.js';
import { sameFormat } from './sniff.js';

/**
 * The limits a video is checked against: a model's `limits.video` (`VideoLimits` of the model
 * definitions fits; media sits below the models, so it names only what it reads).
 */
export interface VideoLimitRules {
  /** Containers as file-type extensions: `mp4`, `mov`. */
  readonly formats: readonly string[];
  readonly minDurationSeconds?: number | undefined;
  readonly maxDurationSeconds?: number | undefined;
  /** Each of width and height must be at least this many pixels. */
  readonly minDimension?: number | undefined;
  /** Each of width and height must be at most this many pixels. */
  readonly maxDimension?: number | undefined;
  readonly maxBytes?: number | undefined;
}

const secs = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(1)} s`;

function span(min: number | undefined, max: number | undefined, unit: string): string {
  if (min !== undefined && max !== undefined) return `${min}–${max} ${unit}`;
  if (min !== undefined) return `at least ${min} ${unit}`;
  return `at most ${max} ${unit}`;
}

/**
 * Checks a probed video against a model's limits. Shared by validation, `video-to-uri` and
 * prepareInput so every path reports the same messages.
 */
export function checkVideoLimits(
  probe: VideoProbe,
  limits: VideoLimitRules,
  path: readonly (string | number)[] = [],
): InputIssue[] {
  const issues: InputIssue[] = [];
  const where = path.length ? `${fieldLabel(path)}: ` : '';
  const at = [...path];
  if (!limits.formats.some((f) => sameFormat(f, probe.container))) {
    issues.push({
      path: at,
      kind: 'media',
      message: `${where}the video is ${probe.container.toUpperCase()}; accepted: ${limits.formats.map((f) => `.${f}`).join(', ')}`,
      hint: 'convert it, e.g. `ffmpeg -i input.mov -c copy output.mp4`',
    });
  }
  const { minDurationSeconds: minD, maxDurationSeconds: maxD } = limits;
  if (
    (minD !== undefined && probe.durationSeconds < minD) ||
    (maxD !== undefined && probe.durationSeconds > maxD)
  ) {
    const long = maxD !== undefined && probe.durationSeconds > maxD;
    issues.push({
      path: at,
      kind: 'media',
      message: `${where}the video is ${secs(probe.durationSeconds)} long; it must be ${span(minD, maxD, 's')}`,
      hint: long
        ? `trim it, e.g. \`ffmpeg -i input.mp4 -t ${maxD} -c copy output.mp4\``
        : `use a clip of at least ${minD} s`,
    });
  }
  const { minDimension: minP, maxDimension: maxP } = limits;
  const tooSmall = minP !== undefined && Math.min(probe.width, probe.height) < minP;
  const tooBig = maxP !== undefined && Math.max(probe.width, probe.height) > maxP;
  if (tooSmall || tooBig) {
    issues.push({
      path: at,
      kind: 'media',
      message: `${where}the video is ${probe.width}×${probe.height} px; width and height must each be ${span(minP, maxP, 'px')}`,
      hint: tooBig
        ? `scale it down, e.g. \`ffmpeg -i input.mp4 -vf scale=-2:${Math.min(2160, maxP ?? 2160)} output.mp4\``
        : `scale it up, e.g. \`ffmpeg -i input.mp4 -vf scale=-2:${minP} output.mp4\``,
    });
  }
  if (limits.maxBytes !== undefined && probe.size > limits.maxBytes) {
    issues.push({
      path: at,
      kind: 'media',
      message: `${where}the video is ${formatBytes(probe.size)}; at most ${formatBytes(limits.maxBytes)} allowed`,
      hint: 'compress it (e.g. `ffmpeg -i input.mp4 -crf 28 output.mp4`) or shorten it',
    });
  }
  return issues;
}
