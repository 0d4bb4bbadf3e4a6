/**
 * Batches: a file of rows planned (validated, keyed, priced, hashed) and run through the
 * lifecycle with bounded concurrency, a budget cap, outputs and a manifest, resumable.
 */
export * from './plan.js';
export * from './rows.js';
export * from './run.js';
