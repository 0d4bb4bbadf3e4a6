export * from './falai-error.js';
