#!/usr/bin/env node
// Same as run.js; kept for oclif's convention. The CLI runs from `dist/`, so build first
// (`pnpm --filter falai build`).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
