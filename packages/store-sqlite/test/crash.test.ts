import { join } from 'node:path';
import { describeStoreCrash } from '@falai/store-conformance';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { createSqliteStore } from '../src/index.js';

describeStoreCrash({
  name: 'sqlite',
  worker: join(import.meta.dirname, 'worker.ts'),
  target: (dir, label) => join(dir, `${label}.db`),
  open: (path) => createSqliteStore({ path }),
  rounds: [
    [5, 7],
    [2, 23],
    [30, 3],
    [1, 41],
  ],
  check: async (path) => {
    const check = new Database(path, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  },
});
