import type { OutputFile, PendingRecord, WebhookEvent } from '@falai/core';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { forceFlag, outFlag } from '../../flags.js';

/** What `falai webhook serve --json` prints last, when the receiver stops. */
export interface WebhookServeSummary {
  readonly url: string;
  readonly jwksUrl: string;
  readonly store: string;
  /** Deliveries answered, by what happened to them. */
  readonly finalised: number;
  readonly duplicates: number;
  readonly unknown: number;
  readonly rejected: number;
  readonly downloaded: number;
  readonly downloadFailed: number;
  readonly storeErrors: number;
}

/** One `--json` line per event; `result` bodies are left out (they can be large). */
function eventLine(event: WebhookEvent): Record<string, unknown> {
  switch (event.kind) {
    case 'finalised':
      return {
        event: event.kind,
        requestId: event.record.requestId,
        endpointId: event.record.endpointId,
        status: event.record.status,
        ...(event.record.error ? { error: event.record.error } : {}),
      };
    case 'duplicate':
      return { event: event.kind, requestId: event.record.requestId, status: event.record.status };
    case 'unknown':
      return { event: event.kind, requestId: event.delivery.requestId, retrying: event.retrying };
    case 'rejected':
      return {
        event: event.kind,
        status: event.status,
        reason: event.reason,
        message: event.message,
      };
    case 'downloaded':
      return { event: event.kind, requestId: event.requestId, outputs: event.outputs };
    default:
      return { event: event.kind, requestId: event.requestId, message: event.message };
  }
}

/** The same event for a person reading the terminal. */
function eventText(event: WebhookEvent): string {
  switch (event.kind) {
    case 'finalised': {
      const { record } = event;
      const why = record.error ? `  ${record.error.code}: ${record.error.message}` : '';
      return `${record.requestId}  ${record.status}  ${record.endpointId}${why}`;
    }
    case 'duplicate':
      return `${event.record.requestId}  duplicate delivery (already ${event.record.status})`;
    case 'unknown':
      return event.retrying
        ? `${event.delivery.requestId}  not in the store yet; asked fal to retry (404)`
        : `${event.delivery.requestId}  not in the store; acknowledged and ignored`;
    case 'rejected':
      return `rejected (${event.status} ${event.reason}): ${event.message}`;
    case 'downloaded':
      return `${event.requestId}  saved ${event.outputs.map((file: OutputFile) => file.path).join(', ')}`;
    case 'download-failed':
      return `${event.requestId}  download failed: ${event.message}`;
    case 'payload-pending':
      return `${event.requestId}  completed without its output in the webhook; falai poll will fetch it (${event.message})`;
    case 'store-error':
      return `${event.requestId}  store error (fal will retry): ${event.message}`;
  }
}

/** `falai webhook serve`: receive fal's completion calls instead of polling. */
export default class WebhookServe extends BaseCommand<typeof WebhookServe> {
  static override summary =
    'Receive fal webhooks: verify each delivery and finalise the stored request.';
  static override description =
    `Runs a small HTTP receiver until Ctrl-C. Each delivery's Ed25519 signature is checked against fal's JWKS (<rest base URL>/.well-known/jwks.json, so --base-url pointing at the emulator trusts the emulator's key) and its timestamp must be within 5 minutes. A verified delivery finalises the matching pending request in the store with a conditional update, so fal's retries and several receivers sharing one store (Redis, SQLite, file) finalise each request exactly once. A delivery for a request the store does not know is answered 404 for 10 minutes after its first arrival, so fal retries it (the webhook can beat the submitter's store write); after that it is acknowledged (fal would otherwise retry for hours) and ignored. Both are reported (the --json unknown event carries retrying: true or false). With --download, outputs are saved after the answer is sent.

Hostile traffic costs little: the signature headers and timestamp are checked before any body byte is read (401), a body past --max-body gets 413 and is not read further, too many deliveries at once get 503 with Retry-After, and slow or idle connections are closed. Records keep a bounded summary of each output: an inline data: URI is kept as its digest, size and type, and with --download it is first written to --out and the record names the file.

fal must be able to reach the URL: run it behind a reverse proxy or a tunnel and pass that public URL to submit --webhook.

With --json, stdout carries one JSON object per line: first {"event":"listening",...}, then one per delivery event (finalised, duplicate, unknown, rejected, downloaded, download-failed, payload-pending, store-error), and on exit a summary with the counts.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --port 8788',
    '<%= config.bin %> <%= command.id %> --port 8788 --download --out ./renders --store redis://127.0.0.1:6379/0',
    '<%= config.bin %> submit fal-ai/nano-banana-pro --set prompt="a red fox" --webhook https://hooks.example.com/',
  ];
  static override flags = {
    port: Flags.integer({
      char: 'p',
      description: 'Port to listen on (0 picks a free one).',
      default: 8788,
      min: 0,
      max: 65_535,
    }),
    host: Flags.string({
      description: 'Interface to listen on; use 0.0.0.0 only behind something that terminates TLS.',
      default: '127.0.0.1',
    }),
    download: Flags.boolean({
      description: 'Save the outputs of completed requests (after answering the delivery).',
      default: false,
    }),
    out: outFlag(),
    force: forceFlag(),
    'jwks-url': Flags.string({
      description:
        'Where the signing keys are published (default: <rest base URL>/.well-known/jwks.json).',
    }),
    'max-body': Flags.integer({
      description:
        'Largest delivery body accepted, in MiB; bigger ones get 413 and are not read past the limit.',
      default: 25,
      min: 1,
      max: 1_024,
    }),
    'max-connections': Flags.integer({
      description:
        'Connections open at once; more are closed on arrival. Deliveries in flight are bounded too (503 with Retry-After).',
      default: 256,
      min: 1,
    }),
  };

  /** One line per JSON object, so `--json` output is NDJSON from start to summary. */
  protected override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }

  async run(): Promise<WebhookServeSummary> {
    const [settings, store] = await Promise.all([this.settings(), this.store()]);
    const { createWebhookHandler, createWebhookServer, createWebhookVerifier, resolveCredentials } =
      await import('@falai/core');
    // The receiver needs no key, but it must know one to keep it out of every line it prints:
    // resolving remembers a key from any source (TOOLS.md, config) for the redaction.
    await resolveCredentials(await this.credentialOptions()).catch(() => undefined);
    const verifier = createWebhookVerifier({
      restBaseUrl: settings.baseUrls.rest,
      ...(this.flags['jwks-url'] ? { jwksUrl: this.flags['jwks-url'] } : {}),
    });
    const counts = {
      finalised: 0,
      duplicates: 0,
      unknown: 0,
      rejected: 0,
      downloaded: 0,
      downloadFailed: 0,
      payloadPending: 0,
      storeErrors: 0,
    };
    const counter: Record<WebhookEvent['kind'], keyof typeof counts> = {
      finalised: 'finalised',
      duplicate: 'duplicates',
      unknown: 'unknown',
      rejected: 'rejected',
      downloaded: 'downloaded',
      'download-failed': 'downloadFailed',
      'payload-pending': 'payloadPending',
      'store-error': 'storeErrors',
    };
    const json = this.jsonEnabled();
    const outDir = this.flags.out ?? settings.outputDir;
    let download: ((record: PendingRecord) => Promise<OutputFile[]>) | undefined;
    if (this.flags.download) {
      // The lifecycle's save step: provenance in the files and on the record, sizes on disk,
      // the settings' download limits; the inline outputs written at finalise are taken in.
      const { saveOutputs } = await import('@falai/core/internal');
      download = (record) =>
        saveOutputs({
          store,
          requestId: record.requestId,
          result: record.result,
          outDir,
          force: this.flags.force,
          settings,
          ...(record.outputs ? { previous: record.outputs } : {}),
        });
    }
    const handler = createWebhookHandler({
      verifier,
      store,
      redactor: this.redactor,
      maxBodyBytes: this.flags['max-body'] * 1024 * 1024,
      // Inline data-URI outputs are written before the record is stored, which keeps only
      // their digest and file; without --download the record keeps the digest alone.
      ...(download ? { download, inlineOutputDir: outDir } : {}),
      onDelivery: (event) => {
        counts[counter[event.kind]] += 1;
        if (json) this.logJson(eventLine(event));
        else if (
          event.kind === 'rejected' ||
          event.kind === 'unknown' ||
          event.kind.endsWith('error') ||
          event.kind === 'download-failed' ||
          event.kind === 'payload-pending'
        ) {
          process.stderr.write(`${eventText(event)}\n`);
        } else this.log(eventText(event));
      },
    });
    const server = await createWebhookServer({
      port: this.flags.port,
      host: this.flags.host,
      handler,
      maxConnections: this.flags['max-connections'],
    });
    const stopped = this.waitForStop();
    if (json) {
      this.logJson({
        event: 'listening',
        url: server.url,
        jwksUrl: verifier.jwksUrl,
        store: store.location,
      });
    } else {
      this.log(`Listening for fal webhooks on ${server.url}`);
      this.note(`Keys from ${verifier.jwksUrl}; records in ${store.kind} store ${store.location}.`);
      if (store.kind === 'memory') {
        this.note(
          'The memory store only knows requests submitted by this process; use a file, SQLite or Redis store shared with submit.',
        );
      }
      this.note(
        `Submit with: falai submit <endpoint> … --webhook ${server.url}  (fal must reach it: use a tunnel or reverse proxy for the real service). Ctrl-C stops.`,
      );
    }
    await stopped;
    try {
      await server.close();
      await handler.idle();
    } finally {
      this.releaseSignals();
    }
    this.note(
      `Stopped. ${counts.finalised} finalised, ${counts.duplicates} duplicates, ${counts.unknown} unknown, ${counts.rejected} rejected.`,
    );
    return { url: server.url, jwksUrl: verifier.jwksUrl, store: store.location, ...counts };
  }
}
