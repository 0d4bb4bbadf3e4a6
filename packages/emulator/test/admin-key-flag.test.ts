import { describe, expect, it } from 'vitest';
import { parseArgs, startFromArgs, stopFromArgs, UsageError } from '../src/cli.js';

/** `--admin-key`: a key with fal's ADMIN scope, for `falai balance` and billing offline. */
describe('--admin-key', () => {
  it('collects ADMIN keys and refuses what is not a key', () => {
    const parsed = parseArgs(['--admin-key', 'admin-a:secret-a', '--admin-key=admin-b:secret-b']);
    expect(parsed.options.platform?.adminKeys).toEqual(['admin-a:secret-a', 'admin-b:secret-b']);
    expect(() => parseArgs(['--admin-key', 'no-colon'])).toThrow(UsageError);
    expect(() => parseArgs(['--admin-key'])).toThrow(/--admin-key expects a key/);
  });

  it('lets that key read the account credits, and no other', async () => {
    const parsed = parseArgs(['--port', '0', '--admin-key', 'admin-a:secret-a']);
    const emulator = await startFromArgs(parsed);
    try {
      const ask = (key: string) =>
        fetch(`${emulator.url}/v1/account/billing?expand=credits`, {
          headers: { authorization: `Key ${key}` },
        });
      const admin = await ask('admin-a:secret-a');
      expect(admin.status).toBe(200);
      expect(await admin.json()).toMatchObject({ credits: { currency: 'USD' } });
      expect((await ask('api-id:api-secret')).status).toBe(403);
    } finally {
      await stopFromArgs(emulator, parsed);
    }
  });
});
