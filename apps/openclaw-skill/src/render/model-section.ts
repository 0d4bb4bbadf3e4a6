import { SKILL_COMMAND } from '../constants.js';
import type { SkillField, SkillModel } from '../models.js';
import {
  allowedLabel,
  cell,
  formatBytes,
  mediaLimitsLabel,
  shellQuote,
  typeLabel,
} from './format.js';

/**
 * Local files the worked examples use instead of the remote URLs in the model files, so that
 * an example works as written in a workspace that holds them (and the docs tests create them).
 */
export const EXAMPLE_FILES: Readonly<Record<string, string>> = {
  image: './photo.png',
  video: './clip.mp4',
  file: './input.bin',
};

/** Jobs expected to take longer than this are submitted and collected later, never waited on. */
export const WAIT_LIMIT_SECONDS = 60;

/**
 * True for models whose jobs outlive an agent tool call: submit now, deliver later. Decided by
 * the model's duration estimate when it has one, else by its kind (video is slow).
 */
export function isLongRunning(model: SkillModel): boolean {
  if (model.durationEstimate !== undefined) return model.durationEstimate > WAIT_LIMIT_SECONDS;
  return model.output.kind === 'video' || model.category.includes('video');
}

/** "about 18 s" / "about 5 min" / "unknown". */
export function durationLabel(model: SkillModel): string {
  const seconds = model.durationEstimate;
  if (seconds === undefined) return 'unknown';
  return seconds < 90 ? `about ${Math.round(seconds)} s` : `about ${Math.round(seconds / 60)} min`;
}

function rows(name: string, field: SkillField, out: string[]): void {
  const defaultValue = field.default === undefined ? '' : `\`${JSON.stringify(field.default)}\``;
  out.push(
    `| \`${name}\` | ${cell(typeLabel(field))} | ${field.required ? 'yes' : ''} | ${cell(defaultValue)} | ${cell(allowedLabel(field))} | ${cell(field.description ?? '')} |`,
  );
  const nested = field.type === 'array' ? field.items?.properties : field.properties;
  if (nested) {
    const prefix = field.type === 'array' ? `${name}[].` : `${name}.`;
    for (const [child, spec] of Object.entries(nested)) rows(`${prefix}${child}`, spec, out);
  }
}

/** Replaces every file value in an example with a local placeholder path. */
export function localizeExample(value: unknown, field: SkillField | undefined): unknown {
  if (!field) return value;
  if (field.type === 'file') return EXAMPLE_FILES[field.media ?? 'file'] ?? EXAMPLE_FILES.file;
  if (field.type === 'array' && Array.isArray(value))
    return value.map((item) => localizeExample(item, field.items));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const properties = field.type === 'object' ? field.properties : undefined;
    if (!properties) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, localizeExample(item, properties[key])]),
    );
  }
  return value;
}

/** The example input of a model with local files in place of URLs. */
export function exampleInput(model: SkillModel): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(model.example).map(([key, value]) => [
      key,
      localizeExample(value, model.input[key]),
    ]),
  );
}

/** The worked example command: `run` for quick image jobs, `submit` for long video jobs. */
export function exampleCommand(model: SkillModel): string {
  const verb = isLongRunning(model) ? 'submit' : 'run';
  const input = shellQuote(JSON.stringify(exampleInput(model)));
  return `${SKILL_COMMAND} ${verb} ${model.endpointId} ${input} --json`;
}

/** One model's section of SKILL.md: inputs, limits, prompt references, a worked example. */
export function renderModelSection(model: SkillModel): string {
  const out: string[] = [];
  out.push(`### ${model.name}: \`${model.endpointId}\``);
  out.push('');
  out.push(`${model.category}. ${model.description}`);
  out.push('');
  out.push(
    isLongRunning(model)
      ? `Takes ${durationLabel(model)}: submit and return at once (\`submit … --session <session key>\`); the result is delivered to the chat when it is ready.`
      : `Takes ${durationLabel(model)}: run and wait (\`run\`), then send the file.`,
  );
  out.push('');
  out.push('| input | type | required | default | allowed | notes |');
  out.push('|---|---|---|---|---|---|');
  for (const [name, field] of Object.entries(model.input)) rows(name, field, out);
  out.push('');
  const limits: string[] = [];
  if (model.limits?.video) limits.push(`video ${mediaLimitsLabel(model.limits.video)}`);
  if (model.limits?.image) limits.push(`images ${mediaLimitsLabel(model.limits.image)}`);
  if (model.limits?.totalReferences) {
    const total = model.limits.totalReferences;
    limits.push(
      `at most ${total.max} of ${total.fields.map((f) => `\`${f}\``).join(' + ')} together`,
    );
  }
  if (model.limits?.maxFileBytes !== undefined)
    limits.push(`local files ≤ ${formatBytes(model.limits.maxFileBytes)}`);
  if (limits.length > 0) {
    out.push(`Limits: ${limits.join('; ')}.`);
    out.push('');
  }
  if (model.references) {
    const refs = model.references.tokens.map((token) => {
      const many = model.input[token.field]?.type === 'array';
      const names = many ? `\`@${token.token}1\`, \`@${token.token}2\`…` : `\`@${token.token}1\``;
      const about = token.description ? ` (${token.description})` : '';
      return `${names} = \`${token.field}\`${about}${token.expected ? ', mention it' : ''}`;
    });
    out.push(
      `Prompt references in \`${model.references.promptField}\`: ${refs.join('; ')}. Numbers follow list order, starting at 1.`,
    );
    out.push('');
  }
  out.push(
    isLongRunning(model)
      ? 'Example (a long job: submit, then collect it later as shown in "Long jobs"):'
      : 'Example (waits for the result and downloads it):',
  );
  out.push('');
  out.push('```bash');
  out.push(exampleCommand(model));
  out.push('```');
  out.push('');
  return out.join('\n');
}
