import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GallerySummary } from '@falai/gallery';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';

/** What `falai gallery --json` prints (with `--serve`: the last line, when it stops). */
export interface GalleryOutput extends GallerySummary {
  /** `file://…/index.html`, or the server's URL with `--serve`. */
  readonly url: string;
  /** Where the records came from. */
  readonly store: string;
  /** `--open` started a browser (false when none could be started). */
  readonly opened?: boolean;
}

/** `falai gallery`: look at what you made. */
export default class Gallery extends BaseCommand<typeof Gallery> {
  static override summary =
    'Write a gallery of your outputs as a static site, or serve it live with --serve.';
  static override description =
    `Builds a self-contained site (default ./falai-gallery) from the store: one card per completed request with its image or video, prompt, model, seed, cost, date, request id, a "copy rerun command" button and its lineage (the earlier outputs it was made from and what was made from it). Filters by model, date and text; arrow keys move between cards, Enter opens the details, Esc closes them.

index.html works from file:// with no server and makes no network request: style, script and data are inline, outputs are linked or copied into media/ and thumbnails made locally into thumbs/, all by relative path, so the folder can be moved or zipped. Requests that are not completed are left out; a completed one whose files are not on this machine gets a card without media that says how to download them. Running it again updates the folder (only what changed is copied); it refuses a folder that holds other files.

--serve serves the site on 127.0.0.1 and rebuilds it when the store changes (checked every second); open pages update themselves. With --json it prints one JSON object per line: {"event":"listening",…}, {"event":"updated",…} per change, and a summary when stopped with Ctrl-C.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --open',
    '<%= config.bin %> <%= command.id %> --out ~/Pictures/falai --json',
    '<%= config.bin %> <%= command.id %> --serve --port 8790 --open',
  ];
  static override flags = {
    out: Flags.string({
      char: 'o',
      description: 'The site folder (created when missing).',
      default: 'falai-gallery',
    }),
    open: Flags.boolean({ description: 'Open the gallery in your browser when it is ready.' }),
    serve: Flags.boolean({
      description: 'Serve the gallery on 127.0.0.1 and update it as jobs finish, until Ctrl-C.',
    }),
    port: Flags.integer({
      char: 'p',
      description: 'Port for --serve (0 picks a free one).',
      default: 8790,
      min: 0,
      max: 65_535,
    }),
    title: Flags.string({ description: 'Heading of the page.', default: 'falai gallery' }),
  };

  /** With --serve, one JSON object per line (NDJSON) from start to summary. */
  protected override logJson(json: unknown): void {
    if (this.flags?.serve) process.stdout.write(`${JSON.stringify(json)}\n`);
    else super.logJson(json);
  }

  async run(): Promise<GalleryOutput> {
    const store = await this.store();
    const gallery = await import('@falai/gallery');
    const outDir = resolve(this.flags.out);
    const options = { outDir, title: this.flags.title };
    if (!this.flags.serve) {
      const summary = await gallery.buildGallery({ ...options, records: await store.list() });
      const url = pathToFileURL(summary.index).href;
      this.report(summary);
      this.log(`Gallery written: ${summary.index}`);
      const opened = this.flags.open ? await this.openInBrowser(url) : undefined;
      return {
        ...summary,
        url,
        store: store.location,
        ...(opened === undefined ? {} : { opened }),
      };
    }

    const json = this.jsonEnabled();
    let ready = false;
    const server = await gallery.serveGallery({
      ...options,
      port: this.flags.port,
      load: () => store.list(),
      onBuild: (summary) => {
        if (!ready) return;
        if (json)
          this.logJson({ event: 'updated', version: summary.version, items: summary.items });
        else this.note(`Updated: ${summary.items} requests, ${summary.files} files.`);
      },
      onError: (error) => {
        const message = error instanceof Error ? error.message : String(error);
        if (json) this.logJson({ event: 'error', message });
        else process.stderr.write(`Warning: the gallery could not be updated: ${message}\n`);
      },
    });
    ready = true;
    const stopped = this.waitForStop();
    if (json) {
      this.logJson({
        event: 'listening',
        url: server.url,
        ...server.summary,
        store: store.location,
      });
    } else {
      this.report(server.summary);
      this.log(`Serving the gallery at ${server.url}`);
      this.note(`Files in ${outDir}; records from ${store.location}. Ctrl-C stops.`);
    }
    const opened = this.flags.open ? await this.openInBrowser(server.url) : undefined;
    await stopped;
    try {
      await server.close();
    } finally {
      this.releaseSignals();
    }
    this.note('Stopped.');
    return {
      ...server.summary,
      url: server.url,
      store: store.location,
      ...(opened === undefined ? {} : { opened }),
    };
  }

  /** What was left out, on stderr. */
  private report(summary: GallerySummary): void {
    this.note(
      `${summary.items} ${summary.items === 1 ? 'request' : 'requests'}, ${summary.files} ${summary.files === 1 ? 'file' : 'files'}.`,
    );
    if (summary.withoutFiles > 0) {
      this.note(
        `${summary.withoutFiles} completed ${summary.withoutFiles === 1 ? 'request has' : 'requests have'} no saved files on this machine (shown without media; falai download <id> saves them).`,
      );
    }
    if (summary.refusedFiles > 0) {
      this.note(
        `${summary.refusedFiles} ${summary.refusedFiles === 1 ? 'file' : 'files'} named by the store ${summary.refusedFiles === 1 ? 'is' : 'are'} not an image, video, sound or 3D model and ${summary.refusedFiles === 1 ? 'was' : 'were'} left out (a gallery publishes only media).`,
      );
    }
    if (summary.skipped > 0) {
      this.note(
        `${summary.skipped} ${summary.skipped === 1 ? 'request is' : 'requests are'} not completed (queued, running, failed or cancelled) and not shown.`,
      );
    }
  }

  /**
   * Opens a URL with the system's opener (open on macOS, start on Windows, xdg-open elsewhere),
   * detached, so falai does not wait for the browser. False (with a note) when none started.
   */
  private openInBrowser(url: string): Promise<boolean> {
    const [command, args] =
      process.platform === 'darwin'
        ? ['open', [url]]
        : process.platform === 'win32'
          ? ['cmd', ['/c', 'start', '""', url]]
          : ['xdg-open', [url]];
    return new Promise((resolveOpen) => {
      const child = spawn(command, args, { detached: true, stdio: 'ignore' });
      child.once('error', () => {
        this.note(`Could not start ${command} to open a browser; open ${url} yourself.`);
        resolveOpen(false);
      });
      child.once('spawn', () => {
        child.unref();
        resolveOpen(true);
      });
    });
  }
}
