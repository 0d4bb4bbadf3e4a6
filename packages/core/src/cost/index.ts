/**
 * Money: estimates of a request's cost from its input and fal's unit prices (cached on disk),
 * budget caps from the config enforced through the store's ledger, the actual cost of a
 * finished request from `x-fal-billable-units`, and sums of recorded spend (`falai usage`).
 */
export * from './billing.js';
export * from './budget.js';
export * from './estimate.js';
export * from './estimator.js';
export * from './record-cost.js';
export * from './request-size.js';
export * from './units.js';
export * from './usage.js';
