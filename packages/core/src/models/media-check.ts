import { extname, resolve } from 'node:path';
import { FalaiError, type InputIssue } from '../errors/falai-error.js';
import { fieldLabel } from '../json/values.js';
import { formatBytes, type MediaSource, sourceSize } from '../media/bytes.js';
import { classifyFileRef, dataUriSize, decodeDataUri } from '../media/file-ref.js';
import { probeImage } from '../media/probe-image.js';
import { probeVideo } from '../media/probe-video.js';
import { sameFormat, sniffFile } from '../media/sniff.js';
import { checkVideoLimits } from '../media/video-limits.js';
import { definitionPath } from './compile.js';
import type { ModelDefinition, VideoLimits } from './definition.js';
import type { FileRef } from './file-fields.js';
import { isUnconfirmed, UNCONFIRMED_SUFFIX } from './issues.js';

const VIDEO_LIMIT_KEYS = [
  'minDurationSeconds',
  'maxDurationSeconds',
  'minDimension',
  'maxDimension',
  'maxBytes',
] as const;

/** A model's video limits split into the confirmed ones and the ones marked unconfirmed. */
function splitVideoLimits(
  limits: VideoLimits,
  container: string,
  unconfirmed: ReadonlySet<string>,
): { hard: VideoLimits; soft: VideoLimits } {
  const pass = [container];
  const softFormats = isUnconfirmed(unconfirmed, 'limits.video.formats');
  const hard: Record<string, unknown> = { formats: softFormats ? pass : limits.formats };
  const soft: Record<string, unknown> = { formats: softFormats ? limits.formats : pass };
  for (const key of VIDEO_LIMIT_KEYS) {
    if (limits[key] === undefined) continue;
    (isUnconfirmed(unconfirmed, `limits.video.${key}`) ? soft : hard)[key] = limits[key];
  }
  return { hard: hard as VideoLimits, soft: soft as VideoLimits };
}

/** What reading one file found. */
export interface MediaFindings {
  readonly issues: InputIssue[];
  readonly warnings: InputIssue[];
}

/** Files above this are refused when the model says nothing (the seed's 200 MB cap). */
const DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024;

const toIssue = (path: (string | number)[], error: unknown): InputIssue => ({
  path,
  kind: 'media',
  message: `${fieldLabel(path)}: ${FalaiError.isInstance(error) ? error.message : String(error)}`,
});

/**
 * Reads a local file or data URI named in an input and checks it against the model: real
 * type from the bytes, accepted formats, size, and for videos duration and resolution.
 */
export async function checkFileMedia(
  ref: FileRef,
  def: ModelDefinition | undefined,
  cwd: string,
  unconfirmed: ReadonlySet<string> = new Set(),
): Promise<MediaFindings> {
  const issues: InputIssue[] = [];
  const warnings: InputIssue[] = [];
  // A rule whose keyword path (or a parent) the model file marks unconfirmed only warns:
  // falai must not refuse a file fal might accept. Returns true when the issue blocks.
  const report = (issue: InputIssue, ...keywords: (string | undefined)[]): boolean => {
    const soft = keywords.some((k) => k !== undefined && isUnconfirmed(unconfirmed, k));
    if (!soft) {
      issues.push(issue);
      return true;
    }
    warnings.push({ ...issue, message: `${issue.message} ${UNCONFIRMED_SUFFIX}` });
    return false;
  };
  const fieldKeyword = (keyword: string) =>
    ref.spec ? `${definitionPath(ref.path)}.${keyword}` : undefined;
  const label = fieldLabel(ref.path);
  const classified = classifyFileRef(ref.value);
  let source: MediaSource;
  let shown: string;
  let declaredMime: string | undefined;
  if (classified.kind === 'path') {
    source = resolve(cwd, classified.path);
    shown = classified.path;
  } else if (classified.kind === 'data-uri') {
    declaredMime = classified.mime;
    shown = `the data URI (${formatBytes(dataUriSize(ref.value))})`;
    try {
      source = decodeDataUri(ref.value);
    } catch (error) {
      issues.push(toIssue(ref.path, new Error(`cannot decode the data URI: ${String(error)}`)));
      return { issues, warnings };
    }
  } else {
    return { issues, warnings };
  }

  let size: number;
  try {
    size = await sourceSize(source);
  } catch (error) {
    const missing = (error as { cause?: { code?: string } }).cause?.code === 'ENOENT';
    issues.push(
      missing
        ? {
            path: ref.path,
            kind: 'media',
            message: `${label}: file not found: ${shown}`,
            hint: `check the path; relative paths are resolved from ${cwd}`,
          }
        : toIssue(ref.path, error),
    );
    return { issues, warnings };
  }
  const mediaLimits =
    ref.media === 'video'
      ? def?.limits?.video
      : ref.media === 'image'
        ? def?.limits?.image
        : undefined;
  // The model's cap, if it has one; when it is unconfirmed, breaking it only warns, and
  // falai's own cap for any file (DEFAULT_MAX_FILE_BYTES) still refuses.
  const modelMax = mediaLimits?.maxBytes ?? def?.limits?.maxFileBytes;
  const modelKeyword =
    mediaLimits?.maxBytes !== undefined ? `limits.${ref.media}.maxBytes` : 'limits.maxFileBytes';
  const modelSoft = modelMax !== undefined && isUnconfirmed(unconfirmed, modelKeyword);
  const hardMax =
    modelMax === undefined
      ? DEFAULT_MAX_FILE_BYTES
      : modelSoft
        ? Math.max(modelMax, DEFAULT_MAX_FILE_BYTES)
        : modelMax;
  const tooBig = (max: number): InputIssue => ({
    path: ref.path,
    kind: 'media',
    message: `${label}: ${shown} is ${formatBytes(size)}; at most ${formatBytes(max)} allowed`,
    hint: 'compress or shorten the file',
  });
  if (size > hardMax) {
    issues.push(tooBig(hardMax));
    return { issues, warnings };
  }
  if (modelSoft && modelMax !== undefined && size > modelMax)
    report(tooBig(modelMax), modelKeyword);
  if (size === 0) {
    issues.push({
      path: ref.path,
      kind: 'media',
      message: `${label}: ${shown} is empty (0 bytes)`,
    });
    return { issues, warnings };
  }

  const sniffed = await sniffFile(source);
  if (ref.media !== 'file' && sniffed.kind !== ref.media) {
    const blocks = report(
      {
        path: ref.path,
        kind: 'media',
        message: `${label}: ${shown} is not ${ref.media === 'image' ? 'an image' : 'a video'}; its content is ${sniffed.mime}`,
        hint: `give ${ref.media === 'image' ? 'an image file' : 'a video file'} here`,
      },
      fieldKeyword('media'),
    );
    if (blocks) return { issues, warnings };
  }
  const formats = ref.spec?.formats ?? mediaLimits?.formats;
  if (formats && !formats.some((f) => sameFormat(f, sniffed.ext))) {
    // The field's formats copy the model's media limits, so either one being unsure is enough.
    const blocks = report(
      {
        path: ref.path,
        kind: 'media',
        message: `${label}: ${shown} is ${sniffed.ext.toUpperCase()} (${sniffed.mime}); accepted: ${formats.map((f) => `.${f}`).join(', ')}`,
        hint: 'convert the file to an accepted format',
      },
      fieldKeyword('formats'),
      ref.media === 'file' ? undefined : `limits.${ref.media}.formats`,
    );
    if (blocks) return { issues, warnings };
  }
  if (classified.kind === 'path') {
    const ext = extname(classified.path).slice(1);
    if (ext && !sameFormat(ext, sniffed.ext)) {
      warnings.push({
        path: ref.path,
        kind: 'media',
        message: `${label}: ${shown} is named .${ext} but its content is ${sniffed.ext.toUpperCase()}; it is sent as ${sniffed.mime}`,
        hint: `rename it to .${sniffed.ext} to avoid confusion`,
      });
    }
  } else if (declaredMime && declaredMime !== sniffed.mime) {
    warnings.push({
      path: ref.path,
      kind: 'media',
      message: `${label}: the data URI says ${declaredMime} but its content is ${sniffed.mime}`,
      hint: `write data:${sniffed.mime};base64,…`,
    });
  }

  try {
    const isoBmff = sameFormat(sniffed.ext, 'mp4') || sameFormat(sniffed.ext, 'mov');
    if (ref.media === 'video' && isoBmff) {
      const probe = await probeVideo(source);
      const limits = def?.limits?.video;
      if (limits) {
        // Checked twice: once with the confirmed limits (issues), once with the unconfirmed
        // ones (warnings). A passing format stands in for the half that does not check it.
        const split = splitVideoLimits(limits, probe.container, unconfirmed);
        issues.push(...checkVideoLimits(probe, split.hard, ref.path));
        for (const issue of checkVideoLimits(probe, split.soft, ref.path))
          warnings.push({ ...issue, message: `${issue.message} ${UNCONFIRMED_SUFFIX}` });
      }
    } else if (ref.media === 'image') {
      const probe = await probeImage(source);
      const limits = def?.limits?.image;
      const small =
        limits?.minDimension !== undefined &&
        Math.min(probe.width, probe.height) < limits.minDimension;
      const big =
        limits?.maxDimension !== undefined &&
        Math.max(probe.width, probe.height) > limits.maxDimension;
      if (small || big) {
        report(
          {
            path: ref.path,
            kind: 'media',
            message: `${label}: ${shown} is ${probe.width}×${probe.height} px; width and height must each be within ${limits?.minDimension ?? 1}–${limits?.maxDimension ?? '∞'} px`,
            hint: 'resize the image',
          },
          small ? 'limits.image.minDimension' : undefined,
          big ? 'limits.image.maxDimension' : undefined,
        );
      }
    }
  } catch (error) {
    issues.push(toIssue(ref.path, error));
  }
  return { issues, warnings };
}
