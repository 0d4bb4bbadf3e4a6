export * from './credentials.js';
export * from './markdown-key.js';
export * from './mask.js';
export * from './sources.js';
