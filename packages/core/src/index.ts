/**
 * @falai/core: credentials, settings, the model registry and validation, the
 * fal queue transport, media helpers, and the PendingStore interface.
 *
 * Heavy dependencies (media parsers, SSE parser) are imported lazily inside the
 * functions that need them, so importing this module stays cheap.
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
