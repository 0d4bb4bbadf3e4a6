export * from '../redact/mask.js';
export * from '../redact/redactor.js';
export * from './credentials.js';
export * from './markdown-key.js';
export * from './quotes.js';
export * from './sources.js';
