/** One model definition file as read: its endpoint id from the path, and its JSON or error. */
export interface ModelFile {
  /** Where the definition came from: an absolute path (or, in a bundle, the package path). */
  readonly file: string;
  /** The endpoint id the file's path below its folder gives. */
  readonly endpointId: string;
  /** The parsed JSON, unchecked; absent when `error` says why the file could not be used. */
  readonly definition?: unknown;
  /** Why the file could not be read or parsed. */
  readonly error?: string;
}

/**
 * The folder the built-in definitions ship in: this package's own folder, wherever it is
 * installed. `fal-ai/nano-banana-pro.json` below it is the model `fal-ai/nano-banana-pro`.
 */
export declare const modelsDir: string;

/** The built-in model definitions (unchecked JSON), in path order. */
export declare function loadBuiltInModels(): ModelFile[];

/**
 * Reads every `*.json` below a folder (a user's model folder, say), in path order. A missing
 * folder gives none; dot-entries, `node_modules` and a top-level `package.json` are skipped.
 */
export declare function readModelFiles(dir: string): ModelFile[];
