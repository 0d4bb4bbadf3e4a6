export * from './credentials.js';
export * from './markdown-key.js';
export * from './mask.js';
export * from './quotes.js';
export * from './secrets.js';
export * from './sources.js';
