import { toFalaiError } from '@falai/core';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { type FalaiMcpOptions, McpContext } from './context.js';
import { toCallToolResult, toolError } from './result.js';
import { FalaiTaskStore } from './tasks.js';
import { createTools, submitGenerate, type ToolCall, type ToolDefinition } from './tools.js';

/** What the server tells clients about itself (shown to the model by many clients). */
const INSTRUCTIONS = `falai generates images, video and audio with fal.ai models and keeps every job in a durable store.
- Find a model with search_models; read its input with get_model_schema; estimate_cost before expensive jobs.
- generate validates the input (an invalid one costs nothing), submits, and waits a bounded time. A job that takes longer (most video) returns its request_id, status and ETA: tell the user, and call get_job_result with that id later (wait_seconds waits again, bounded). Jobs survive restarts of this server and of the agent; list_jobs shows them.
- Results are files on this machine (paths), with small images inline.`;

/** A falai MCP server factory: one context (lifecycle, bounds, background waits) for all sessions. */
export interface FalaiMcp {
  readonly context: McpContext;
  readonly tools: readonly ToolDefinition[];
  /** A new MCP server (one per connection: stdio, or each Streamable HTTP session). */
  createServer(): Server;
  /** Stops background waits (the jobs stay pending in the store). */
  close(): Promise<void>;
}

/**
 * The falai MCP server: tools over core's lifecycle API (search, schema, estimate, generate,
 * status, result, download, list, cancel), each with a JSON Schema input and a structured
 * output, errors as tool errors with falai's fix hints, every result redacted. With `tasks`
 * (default), clients that support MCP tasks may run `generate` as a task backed by the store.
 */
export function createFalaiMcp(options: FalaiMcpOptions): FalaiMcp {
  const context = new McpContext(options);
  const tools = createTools(context);
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const listed: Tool[] = tools.map((tool) => ({
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema as Tool['inputSchema'],
    outputSchema: tool.outputSchema as Tool['outputSchema'],
    annotations: { title: tool.title, ...tool.annotations },
    ...(tool.taskSupport ? { execution: { taskSupport: tool.taskSupport } } : {}),
  }));

  const createServer = (): Server => {
    const taskStore = context.tasks ? new FalaiTaskStore(context) : undefined;
    const server = new Server(
      { name: 'falai', title: 'falai (fal.ai generation)', version: context.version },
      {
        capabilities: {
          tools: {},
          ...(taskStore
            ? { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } }
            : {}),
        },
        instructions: INSTRUCTIONS,
        ...(taskStore ? { taskStore } : {}),
      },
    );
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listed }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const tool = byName.get(request.params.name as ToolDefinition['name']);
      if (!tool) {
        throw new McpError(
          ErrorCode.InvalidParams,
          `Unknown tool ${JSON.stringify(request.params.name.slice(0, 80))}; the tools are ${tools.map((t) => t.name).join(', ')}.`,
        );
      }
      const token = request.params._meta?.progressToken;
      let step = 0;
      const call: ToolCall = {
        signal: extra.signal,
        ...(token === undefined
          ? {}
          : {
              progress: (message: string) => {
                step += 1;
                extra
                  .sendNotification({
                    method: 'notifications/progress',
                    params: {
                      progressToken: token,
                      progress: step,
                      message: context.redactor.redact(message),
                    },
                  })
                  .catch(() => undefined);
              },
            }),
      };
      if (request.params.task) {
        if (!taskStore || tool.taskSupport !== 'optional') {
          throw new McpError(ErrorCode.InvalidParams, `${tool.name} does not run as a task.`);
        }
        try {
          const { job } = await context.track(
            submitGenerate(context, request.params.arguments, call),
          );
          const task = await extra.taskStore?.createTask({
            ...(request.params.task.ttl === undefined ? {} : { ttl: request.params.task.ttl }),
            context: { requestId: job.requestId },
          });
          if (!task) throw new Error('The task store is missing.');
          return { task } as unknown as CallToolResult;
        } catch (error) {
          // Nothing was submitted, or the id is in the message: a protocol error the client shows.
          const falai = toFalaiError(error);
          throw new McpError(
            ErrorCode.InvalidParams,
            context.redactor.redact(`${falai.code}: ${falai.message}`),
          );
        }
      }
      return context.track(
        Promise.resolve()
          .then(() => tool.run(request.params.arguments, call))
          .then(
            (outcome) => toCallToolResult(outcome, context.redactor),
            (error: unknown) => toolError(error, context.redactor),
          ),
      );
    });
    return server;
  };

  return {
    context,
    tools,
    createServer,
    close: () => context.close(),
  };
}
