/**
 * @falai/mcp: a Model Context Protocol server over falai's lifecycle API (`@falai/core`):
 * search models, show input schemas, estimate costs, generate with a bounded wait, and jobs
 * (status, result, download, list, cancel) that live in falai's store, so they survive a
 * restart of the server or of the agent. stdio and Streamable HTTP; MCP tasks for generate.
 */
export {
  MCP_CLIENTS,
  type McpClientConfig,
  type McpClientName,
  type McpLaunch,
  mcpClientConfig,
} from './client-config.js';
export {
  DEFAULT_INLINE_IMAGE_MAX_BYTES,
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_WAIT_MS,
  type Eta,
  type FalaiMcpOptions,
  type JobView,
  McpContext,
} from './context.js';
export { type InlineImage, inlineImages } from './images.js';
export { createFalaiMcp, type FalaiMcp } from './server.js';
export { FalaiTaskStore } from './tasks.js';
export type { ToolDefinition, ToolOutcome } from './tools.js';
export {
  type RunningHttpMcp,
  type RunningMcp,
  type ServeHttpOptions,
  serveHttp,
  serveStdio,
} from './transports.js';
