import { type Redactor, toFalaiError } from '@falai/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toPlainJson } from './context.js';
import type { ToolOutcome } from './tools.js';

/** Largest `details` of an error shown in the message (serialised). */
const MAX_DETAILS_JSON = 4096;

/**
 * A tool's outcome as MCP content: a few lines for the agent, then the structured content as
 * JSON text (for clients that show only text), then any images; `structuredContent` for
 * clients that read it. Every string is redacted: no key reaches a client.
 */
export function toCallToolResult(outcome: ToolOutcome, redactor: Redactor): CallToolResult {
  const structured = toPlainJson(outcome.structured) as Record<string, unknown>;
  const result: CallToolResult = {
    content: [
      { type: 'text', text: `${outcome.summary}\n\n${JSON.stringify(structured, null, 2)}` },
      ...(outcome.images ?? []).map((image) => ({
        type: 'image' as const,
        data: image.data,
        mimeType: image.mimeType,
      })),
    ],
    structuredContent: structured,
    ...(outcome.isError ? { isError: true } : {}),
  };
  return redactor.redactValue(result);
}

/**
 * Any error as a tool error (`isError`, not a protocol error), so the agent reads it: falai's
 * code and its message, which says how to fix the problem (the same hints as the CLI), and
 * small details such as the validation issues. Redacted like every result.
 */
export function toolError(error: unknown, redactor: Redactor): CallToolResult {
  const falai = toFalaiError(error);
  let text = `${falai.code}: ${falai.message}`;
  if (falai.details !== undefined) {
    const details = JSON.stringify(toPlainJson(falai.details));
    if (details !== undefined && details.length <= MAX_DETAILS_JSON)
      text += `\n\nDetails: ${details}`;
  }
  return redactor.redactValue({ content: [{ type: 'text', text }], isError: true });
}
