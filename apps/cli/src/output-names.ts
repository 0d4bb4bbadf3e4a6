import { Flags } from '@oclif/core';

/**
 * How downloaded outputs are named (`--out`, `--name`) lives in core (`outputTarget`), so
 * programs name files the way the CLI does; this file holds the shared flag.
 */
export {
  checkNamePattern,
  checkOutputFlags,
  fillNamePattern,
  isFileOut,
  NAME_FIELDS,
  type OutputTarget,
  type OutputTargetOptions,
  outputTarget,
} from '@falai/core/internal';

/** `--name <pattern>`, shared by every command that saves outputs. */
export const nameFlag = () =>
  Flags.string({
    description:
      'Name the saved files with a pattern: {request_id}, {index} (from 0), {n} (from 1), {ext}, {endpoint}, {date}, {time}; e.g. --name "{endpoint}-{date}-{n}". Default {request_id}-{index}.{ext}.',
  });
