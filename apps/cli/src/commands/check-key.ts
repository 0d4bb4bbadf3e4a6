import type { CheckKeyOutput } from '@falai/core';
import { AuthError } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';

/** A request id no queue knows; used to ask fal whether the key is accepted. */
const PROBE_REQUEST = '00000000-0000-4000-8000-000000000000';
const PROBE_ENDPOINT = 'fal-ai/nano-banana-pro';

/** Seed command: which key falai would use, and from where (masked). */
export default class CheckKey extends BaseCommand<typeof CheckKey> {
  static override summary = 'Show whether a FAL_KEY was found and where (masked).';
  static override description =
    'Looks through every credential source in order (FAL_KEY, FAL_KEY_ID+FAL_KEY_SECRET, openclaw.json, TOOLS.md, AGENTS.md, the falai config file) and reports which one wins. The key is shown masked, never whole. A key wrapped in one pair of quotes (as .env files write it) is used without them, and check-key says so. --verify asks fal whether it accepts the key (a status call for a request that does not exist: 404 means accepted, 401/403 rejected).';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --verify --json',
  ];
  static override flags = {
    verify: Flags.boolean({ description: 'Ask fal whether the key is accepted.' }),
  };

  async run(): Promise<CheckKeyOutput> {
    const { describeCredentialSources, resolveCredentials } = await import('@falai/core');
    const credentialOptions = await this.credentialOptions();
    const reports = await describeCredentialSources(credentialOptions);
    const sources = reports.map((report) => ({
      source: report.source,
      result: report.result,
      found: report.found,
      ...(report.masked ? { masked: report.masked } : {}),
      ...(report.fix ? { fix: report.fix } : {}),
    }));
    // Throws AUTH_MISSING (listing every source) or AUTH_INVALID.
    const credentials = await resolveCredentials(credentialOptions);
    this.log(`OK: Key found (${credentials.masked}) from ${credentials.source}`);
    if (credentials.note) this.log(`Note: ${credentials.note}.`);
    let verified: boolean | undefined;
    let verifyMessage: string | undefined;
    if (this.flags.verify) {
      const client = await this.client();
      try {
        await client.status(PROBE_ENDPOINT, PROBE_REQUEST);
        verified = true;
        verifyMessage = 'fal accepted the key.';
      } catch (error) {
        if (error instanceof AuthError && error.code === 'AUTH_REJECTED') throw error;
        if ((error as { code?: string }).code === 'NOT_FOUND') {
          verified = true;
          verifyMessage = 'fal accepted the key.';
        } else {
          throw error;
        }
      }
      this.log(`OK: ${verifyMessage} (${credentialOptions.settings.baseUrls.queue})`);
    }
    return {
      found: true,
      source: credentials.source,
      masked: credentials.masked,
      sources,
      ...(verified === undefined ? {} : { verified }),
      ...(verifyMessage === undefined ? {} : { verifyMessage }),
      ...(credentials.note ? { note: credentials.note } : {}),
    };
  }
}
