export * from './budget.js';
export * from './memory.js';
export * from './ops.js';
export * from './output-summary.js';
export * from './record.js';
export * from './seed.js';
export * from './spec.js';
export * from './types.js';
