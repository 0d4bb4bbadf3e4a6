/**
 * What `bin/run.js` starts. The build bundles @oclif/core into dist/ (see
 * scripts/bundle.mjs), and the commands import their oclif from the same shared chunk, so
 * the runner and the commands share one oclif instead of loading it twice.
 */
export { execute } from '@oclif/core';
