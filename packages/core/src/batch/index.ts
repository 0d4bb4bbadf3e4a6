/**
 * Batches: a file of rows planned (validated, keyed, priced, hashed) and run through the
 * lifecycle with bounded concurrency, a budget cap, outputs and a manifest, resumable; the
 * per-row step is shared with the distributed worker (`@falai/batch-queue`).
 */
export * from './lost.js';
export * from './plan.js';
export * from './row.js';
export * from './rows.js';
export * from './run.js';
