import { extname, resolve } from 'node:path';
import { FalaiError, type InputIssue } from '../errors/falai-error.js';
import { formatBytes, type MediaSource, sourceSize } from '../media/bytes.js';
import { probeImage } from '../media/probe-image.js';
import { probeVideo } from '../media/probe-video.js';
import { sameFormat, sniffFile } from '../media/sniff.js';
import { checkVideoLimits } from '../media/video-limits.js';
import type { ModelDefinition } from './definition.js';
import { fieldLabel } from './describe.js';
import type { FileRef } from './file-fields.js';
import { classifyFileRef, dataUriSize, decodeDataUri } from './file-ref.js';

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
): Promise<MediaFindings> {
  const issues: InputIssue[] = [];
  const warnings: InputIssue[] = [];
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
  const maxBytes = mediaLimits?.maxBytes ?? def?.limits?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (size > maxBytes) {
    issues.push({
      path: ref.path,
      kind: 'media',
      message: `${label}: ${shown} is ${formatBytes(size)}; at most ${formatBytes(maxBytes)} allowed`,
      hint: 'compress or shorten the file',
    });
    return { issues, warnings };
  }
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
    issues.push({
      path: ref.path,
      kind: 'media',
      message: `${label}: ${shown} is not ${ref.media === 'image' ? 'an image' : 'a video'}; its content is ${sniffed.mime}`,
      hint: `give ${ref.media === 'image' ? 'an image file' : 'a video file'} here`,
    });
    return { issues, warnings };
  }
  const formats = ref.spec?.formats ?? mediaLimits?.formats;
  if (formats && !formats.some((f) => sameFormat(f, sniffed.ext))) {
    issues.push({
      path: ref.path,
      kind: 'media',
      message: `${label}: ${shown} is ${sniffed.ext.toUpperCase()} (${sniffed.mime}); accepted: ${formats.map((f) => `.${f}`).join(', ')}`,
      hint: 'convert the file to an accepted format',
    });
    return { issues, warnings };
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
      if (def?.limits?.video) issues.push(...checkVideoLimits(probe, def.limits.video, ref.path));
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
        issues.push({
          path: ref.path,
          kind: 'media',
          message: `${label}: ${shown} is ${probe.width}×${probe.height} px; width and height must each be within ${limits?.minDimension ?? 1}–${limits?.maxDimension ?? '∞'} px`,
          hint: 'resize the image',
        });
      }
    }
  } catch (error) {
    issues.push(toIssue(ref.path, error));
  }
  return { issues, warnings };
}
