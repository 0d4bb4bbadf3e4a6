import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSearchConformance, randomId } from '@falai/store-conformance';
import { afterAll } from 'vitest';
import { createFileStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'falai-store-file-search-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describeSearchConformance({
  name: 'file',
  create: async () => createFileStore({ path: join(dir, randomId('store'), 'pending.json') }),
  reopen: async (previous) => createFileStore({ path: previous.location }),
});
