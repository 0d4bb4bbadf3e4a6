/**
 * `@falai/emulator`: a faithful local fal.ai for tests, benchmarks and the offline demo.
 * Import it lazily (`await import('@falai/emulator')`): it loads a server and sharp.
 */
export {
  type CliOptions,
  type MainIo,
  main,
  parseArgs,
  RANDOM_FAILURES,
  startFromArgs,
  stopFromArgs,
  USAGE,
  UsageError,
} from './cli.js';
export { startEmulator } from './emulator.js';
export { parseEndpointId } from './ids.js';
export { parseExact, pythonDumps, stringifyExact } from './json.js';
export type { PlatformOptions } from './platform/types.js';
export type {
  CompleteWithError,
  Duration,
  Emulator,
  EmulatorOptions,
  EmulatorStats,
  FaultAction,
  FaultRule,
  JobInfo,
  JobStatus,
  LatencyProfile,
  LogEntry,
  LoggedRequest,
  ModelBehaviour,
  RequestKind,
} from './types.js';
