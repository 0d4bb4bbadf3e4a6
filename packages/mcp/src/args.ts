import { InputError, type InputIssue } from '@falai/core';
import { checkRequestId, formatEndpointId, parseEndpointId } from '@falai/core/internal';
import * as v from 'valibot';

/** Longest endpoint id accepted (fal's are far shorter). */
export const MAX_ENDPOINT_ID_LENGTH = 300;
/** Largest `input` object accepted, serialised (inline data URIs included). */
export const MAX_INPUT_JSON_BYTES = 16 * 1024 * 1024;

const text = (max: number) => v.pipe(v.string(), v.maxLength(max));
/** An object of arguments whose unknown keys are refused by name. */
const strict = <const E extends v.ObjectEntries>(entries: E) =>
  v.strictObject(entries, 'unknown argument (see the input schema)');
const seconds = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(86_400));

/** Arguments of every tool, checked before anything else runs: unknown keys are refused. */
export const Args = {
  search_models: strict({
    query: v.optional(text(200)),
    category: v.optional(text(100)),
    limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50))),
  }),
  get_model_schema: strict({
    endpoint_id: text(MAX_ENDPOINT_ID_LENGTH),
  }),
  estimate_cost: strict({
    endpoint_id: text(MAX_ENDPOINT_ID_LENGTH),
    input: v.optional(v.record(v.string(), v.unknown())),
  }),
  generate: strict({
    endpoint_id: text(MAX_ENDPOINT_ID_LENGTH),
    input: v.record(v.string(), v.unknown()),
    wait_seconds: v.optional(seconds),
    dir: v.optional(text(500)),
    max_cost_usd: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(100_000))),
  }),
  get_job_status: strict({
    request_id: text(200),
    endpoint_id: v.optional(text(MAX_ENDPOINT_ID_LENGTH)),
  }),
  get_job_result: strict({
    request_id: text(200),
    endpoint_id: v.optional(text(MAX_ENDPOINT_ID_LENGTH)),
    wait_seconds: v.optional(seconds),
    inline_images: v.optional(v.boolean()),
  }),
  download_job_outputs: strict({
    request_id: text(200),
    endpoint_id: v.optional(text(MAX_ENDPOINT_ID_LENGTH)),
    dir: v.optional(text(500)),
    force: v.optional(v.boolean()),
  }),
  list_jobs: strict({
    status: v.optional(v.picklist(['pending', 'done', 'all'])),
    endpoint_id: v.optional(text(MAX_ENDPOINT_ID_LENGTH)),
    limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
  }),
  cancel_job: strict({
    request_id: text(200),
    endpoint_id: v.optional(text(MAX_ENDPOINT_ID_LENGTH)),
  }),
} as const;

export type ToolName = keyof typeof Args;
export type ArgsOf<N extends ToolName> = v.InferOutput<(typeof Args)[N]>;

/**
 * Checks a tool's arguments: anything an agent sends is untrusted. A problem is INPUT_INVALID
 * listing each argument and what it must be, so the agent can fix the call.
 */
export function parseArgs<N extends ToolName>(tool: N, args: unknown): ArgsOf<N> {
  const result = v.safeParse(Args[tool], args ?? {});
  if (result.success) {
    if ('input' in result.output && result.output.input !== undefined) {
      const size = Buffer.byteLength(JSON.stringify(result.output.input) ?? '');
      if (size > MAX_INPUT_JSON_BYTES) {
        throw new InputError(
          `The input of ${tool} is ${size} bytes; at most ${MAX_INPUT_JSON_BYTES} are accepted. Pass large files as https:// URLs or local paths instead of inline data.`,
          [{ path: ['input'], message: 'too large', kind: 'size' }],
        );
      }
    }
    return result.output as ArgsOf<N>;
  }
  const issues: InputIssue[] = result.issues.slice(0, 10).map((issue) => {
    const path = (issue.path ?? []).map((item) => item.key as string | number);
    return { path, message: issue.message, kind: 'argument' };
  });
  const lines = issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  throw new InputError(
    `Invalid arguments for ${tool}: ${lines.join('; ')}. Call it with the arguments its input schema lists (tools/list).`,
    issues,
  );
}

/** An endpoint id from an agent, checked and normalised by core's parser. */
export function endpointIdOf(given: string): string {
  return formatEndpointId(parseEndpointId(given));
}

/** A request id from an agent, checked by core (letters, digits, `-`, `_`; bounded). */
export function requestIdOf(given: string): string {
  return checkRequestId(given);
}
