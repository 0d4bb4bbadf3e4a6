import type { ListOutput, RequestStatus } from '@falai/core';
import { ACTIVE_STATUSES, REQUEST_STATUSES } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { recordRows, table } from '../output.js';
import { seedFileHint } from '../store.js';

/** Seed command: the requests falai is keeping track of. */
export default class List extends BaseCommand<typeof List> {
  static override summary = 'List pending requests (--all for finished ones too).';
  static override description =
    'Shows the requests in the store, oldest first. By default only queued and running ones; --all adds completed, failed and cancelled requests, and --status / --endpoint filter.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --all --status failed --endpoint fal-ai/nano-banana-pro',
    '<%= config.bin %> <%= command.id %> --json',
  ];
  static override flags = {
    all: Flags.boolean({ char: 'a', description: 'Include finished requests.' }),
    status: Flags.string({
      multiple: true,
      options: [...REQUEST_STATUSES],
      description: 'Only requests with this status (repeatable).',
    }),
    endpoint: Flags.string({ char: 'e', description: 'Only requests for this endpoint.' }),
    limit: Flags.integer({ min: 1, description: 'At most this many (the oldest first).' }),
  };

  async run(): Promise<ListOutput> {
    const store = await this.store();
    const statuses: readonly RequestStatus[] | undefined = this.flags.status?.length
      ? (this.flags.status as RequestStatus[])
      : this.flags.all
        ? undefined
        : ACTIVE_STATUSES;
    const records = await store.list({
      ...(statuses ? { status: statuses } : {}),
      ...(this.flags.endpoint ? { endpointId: this.flags.endpoint } : {}),
      ...(this.flags.limit ? { limit: this.flags.limit } : {}),
    });
    const views = records.map(({ result: _result, ...rest }) => rest);
    // `this.log` prints nothing under --json: no table is built for nobody to see.
    if (!this.jsonEnabled()) {
      if (records.length === 0) {
        this.log(
          this.flags.all || statuses !== ACTIVE_STATUSES
            ? 'No matching requests.'
            : 'No pending requests.',
        );
      } else {
        this.log(
          table(['REQUEST ID', 'ENDPOINT', 'STATUS', 'QUEUE', 'SUBMITTED'], recordRows(records)),
        );
      }
    }
    this.note(`store: ${store.location}`);
    const hint = await seedFileHint(await this.settings());
    if (hint) this.note(hint);
    return { requests: views, count: views.length, store: store.location };
  }
}
