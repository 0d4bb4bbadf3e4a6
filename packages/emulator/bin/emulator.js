#!/usr/bin/env node
// Starts the falai emulator from the command line; see `falai-emulator --help`.
let emulator;
try {
  emulator = await import('../dist/index.js');
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write(
      'falai-emulator: the package is not built yet. Run `pnpm --filter @falai/emulator build` first.\n',
    );
    process.exit(1);
  }
  throw error;
}
emulator.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`falai-emulator: ${error instanceof Error ? error.message : error}\n`);
    process.exitCode = 1;
  },
);
