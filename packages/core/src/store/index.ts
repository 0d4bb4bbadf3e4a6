export * from './record.js';
export * from './types.js';
