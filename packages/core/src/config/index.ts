export * from './budget.js';
export * from './config-file.js';
export * from './paths.js';
export * from './settings.js';
