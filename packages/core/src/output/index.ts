/**
 * valibot schemas for every `falai … --json` output. The CLI prints values of these
 * shapes, its tests parse them back, and agents (the OpenClaw skill) can rely on them.
 * Fields are only ever added, never renamed, within a major version.
 */
export * from './catalogue.js';
export * from './common.js';
export * from './cost.js';
export * from './history.js';
export * from './misc.js';
export * from './requests.js';
