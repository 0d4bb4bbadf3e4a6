import type { InputIssue } from '../errors/falai-error.js';
import type { VideoLimits } from '../models/definition.js';
import { fieldLabel } from '../models/describe.js';
import type { ModelRegistry } from '../models/registry.js';
import { formatBytes } from './bytes.js';
import type { VideoProbe } from './probe-video.js';
import { sameFormat } from './sniff.js';

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
  limits: VideoLimits,
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

/** The video limits of a model, if it has any (for `video-to-uri --model`). */
export function videoLimitsFor(
  registry: ModelRegistry,
  endpointId: string,
): VideoLimits | undefined {
  return registry.get(endpointId)?.limits?.video;
}
