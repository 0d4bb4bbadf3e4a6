/**
 * The request lifecycle, once for every front end (the CLI, the webhook receiver, the skill,
 * programs): validate and prepare input, submit and record, wait and finalise, cancel, the
 * leased poll pass, result fetch, and saving outputs with their provenance. One rule turns an
 * outcome into a record update (`outcome.ts`). `createFalai` / `falai` put it in one call.
 */
export * from './binary-input.js';
export * from './cancel.js';
export * from './critical-section.js';
export * from './endpoints.js';
export * from './eta.js';
export * from './falai.js';
export * from './housekeeping.js';
export * from './intents.js';
export * from './open-store.js';
export * from './outcome.js';
export * from './output-names.js';
export * from './poll.js';
export * from './recover.js';
export * from './references.js';
export * from './rerun.js';
export * from './result.js';
export * from './save.js';
export * from './status.js';
export * from './submit.js';
export * from './submit-cost.js';
export * from './target.js';
export * from './wait.js';
