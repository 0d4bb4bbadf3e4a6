export * from './critical-section.js';
export * from './submit.js';
