import { toFalaiError } from '../errors/falai-error.js';

/** A manifest entry's `error`: the code and the first line of the message. */
export const errorOf = (error: unknown): { code: string; message: string } => {
  const falai = toFalaiError(error);
  return { code: falai.code, message: falai.message.split('\n')[0] ?? falai.code };
};
