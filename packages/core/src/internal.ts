/**
 * `@falai/core/internal`: everything core has, for falai's own front ends (the CLI, the MCP
 * server, the gallery, the OpenClaw skill, the batch queue) and its test suites. No
 * compatibility promise beyond theirs: applications import `@falai/core`, store authors
 * `@falai/core/store-kit`.
 */
export * from './auth/index.js';
export * from './batch/index.js';
export * from './catalogue/index.js';
export * from './config/index.js';
export * from './cost/index.js';
export * from './errors/index.js';
export * from './json/index.js';
export * from './lifecycle/index.js';
export * from './media/index.js';
export * from './models/index.js';
export * from './output/index.js';
export * from './platform/index.js';
export * from './provenance/index.js';
export * from './queue/index.js';
export * from './store/index.js';
export * from './webhooks/index.js';
