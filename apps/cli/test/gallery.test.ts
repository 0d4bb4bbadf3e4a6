import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorOutputSchema, RunOutputSchema } from '@falai/core';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR, createTestEnv, RUN_JS, type TestEnv } from './helpers.js';

/**
 * The gallery in a real browser: Chromium from the OS package manager driven by playwright-core
 * (nothing downloads a browser), on a gallery built from real emulator outputs made by the
 * built CLI. Under CI a missing Chromium fails; elsewhere the suite says loudly that it did not
 * run.
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (path) => existsSync(path),
);
if (!CHROMIUM) {
  if (process.env.CI)
    throw new Error(
      'Chromium is needed for the gallery browser tests under CI: apt-get install chromium (scripts/install.sh does).',
    );
  console.warn(
    '\n  ⚠ SKIPPING the gallery browser tests: no Chromium at /usr/bin/chromium. Install it (apt-get install chromium, or scripts/install.sh).\n',
  );
}
const ARTIFACTS = join(CLI_DIR, 'test-artifacts');
const CORE_FIXTURES = join(CLI_DIR, '..', '..', 'packages', 'core', 'test', 'fixtures', 'media');
const SEED = '17454220438242315174';
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> a fox';

const GallerySummarySchema = v.object({
  outDir: v.string(),
  index: v.string(),
  url: v.string(),
  store: v.string(),
  version: v.string(),
  items: v.number(),
  files: v.number(),
  withoutFiles: v.number(),
  missingFiles: v.number(),
  refusedFiles: v.number(),
  skipped: v.number(),
  copied: v.number(),
  thumbnails: v.number(),
  removed: v.number(),
});

let env: TestEnv;
/** Request ids by role. */
const ids: Record<'lighthouse' | 'hostile' | 'watercolor' | 'video', string> = {
  lighthouse: '',
  hostile: '',
  watercolor: '',
  video: '',
};

async function runJob(args: string[]): Promise<v.InferOutput<typeof RunOutputSchema>> {
  const result = await env.run(['run', ...args, '--json']);
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result.json(RunOutputSchema);
}

beforeAll(async () => {
  env = await createTestEnv();
  await mkdir(ARTIFACTS, { recursive: true });
  const lighthouse = await runJob([
    'fal-ai/nano-banana-pro',
    '--set',
    'prompt=a lighthouse at dusk',
    '--set',
    `seed=${SEED}`,
  ]);
  ids.lighthouse = lighthouse.requestId;
  ids.hostile = (
    await runJob([
      'fal-ai/nano-banana-pro',
      '--set',
      `prompt=${HOSTILE}`,
      '--set',
      'output_format=webp',
      '--set',
      'aspect_ratio=16:9',
    ])
  ).requestId;
  // Made from the lighthouse: its input URL is the lighthouse's output URL.
  const parentUrl = lighthouse.outputs?.[0]?.url;
  expect(parentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  ids.watercolor = (
    await runJob([
      'fal-ai/flux/dev/image-to-image',
      '--set',
      'prompt=watercolor of the lighthouse',
      '--set',
      `image_url=${parentUrl}`,
    ])
  ).requestId;
  ids.video = (
    await runJob([
      'fal-ai/kling-video/o3/standard/video-to-video/edit',
      '--set',
      'prompt=snow falls on @Video1',
      '--set',
      `video_url=${join(CORE_FIXTURES, 'ok-1280x720-4s.mp4')}`,
    ])
  ).requestId;
}, 180_000);

afterAll(async () => {
  await env?.close();
});

describe('falai gallery (no browser needed)', () => {
  it('writes the site and says what it holds', async () => {
    const result = await env.run(['gallery', '--out', 'site', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = result.json(GallerySummarySchema);
    expect(summary).toMatchObject({
      items: 4,
      files: 4,
      withoutFiles: 0,
      refusedFiles: 0,
      skipped: 0,
      copied: 4,
    });
    expect(summary.url).toBe(pathToFileURL(join(env.dir, 'site', 'index.html')).href);
    const human = await env.run(['gallery', '--out', 'site']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Gallery written: ${join(env.dir, 'site', 'index.html')}`);
    expect(human.stderr).toContain('4 requests, 4 files.');
  });

  it('refuses a folder that is not a gallery (exit 8) and touches nothing in it', async () => {
    await mkdir(join(env.dir, 'photos'));
    await writeFile(join(env.dir, 'photos', 'keep.txt'), 'mine');
    const result = await env.run(['gallery', '--out', 'photos', '--json']);
    expect(result.code).toBe(8);
    const { error } = result.json(ErrorOutputSchema);
    expect(error.code).toBe('OUTPUT_EXISTS');
    expect(error.message).toMatch(/--out <dir>/);
    expect(await readFile(join(env.dir, 'photos', 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('--open hands the page to the system opener', async () => {
    const bin = join(env.dir, 'fake-bin');
    await mkdir(bin, { recursive: true });
    const log = join(env.dir, 'opened.txt');
    for (const name of ['xdg-open', 'open']) {
      await writeFile(join(bin, name), `#!/bin/sh\nprintf '%s' "$1" > '${log}'\n`);
      await chmod(join(bin, name), 0o755);
    }
    const result = await env.run(['gallery', '--out', 'site', '--open', '--json'], {
      env: { PATH: `${bin}:${env.baseEnv.PATH}` },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json(v.object({ opened: v.boolean() })).opened).toBe(true);
    await expect
      .poll(() => readFile(log, 'utf8').catch(() => ''))
      .toBe(pathToFileURL(join(env.dir, 'site', 'index.html')).href);
  });
});

/** Chromium with a fresh profile, every request the pages make recorded. */
async function openBrowser(): Promise<{
  context: BrowserContext;
  requests: string[];
  close(): Promise<void>;
}> {
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'falai-gallery-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...(CHROMIUM === undefined ? {} : { executablePath: CHROMIUM }),
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  // Anything the page's own policy had to block would be a request to somewhere else.
  await context.addInitScript(`
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__violations.push(event.violatedDirective + ' ' + event.blockedURI);
    });`);
  return {
    context,
    requests,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

const cardIds = (page: Page) =>
  page.$$eval('.card', (cards) => cards.map((card) => card.getAttribute('data-id')));
// Page-side code is given as text: this package is type-checked without the DOM library.
const activeCard = (page: Page) =>
  page.evaluate<string | null>(
    "document.activeElement?.closest('.card')?.getAttribute('data-id') ?? null",
  );
const violations = (page: Page) => page.evaluate<string[]>('window.__violations');
const isOpen = (dialog: Locator) => dialog.evaluate((node) => (node as { open?: boolean }).open);

describe.skipIf(!CHROMIUM)('the gallery in Chromium', () => {
  it('from file://: cards, filters, keyboard, lineage, hostile text, no request outside itself', async () => {
    const site = join(env.dir, 'site-file');
    const built = await env.run(['gallery', '--out', site, '--json']);
    expect(built.code, built.stderr).toBe(0);
    const siteUrl = pathToFileURL(site).href;
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${siteUrl}/index.html`);
      await page.waitForSelector('.card');

      // Cards, newest first, with their prompts; the images carry the prompt as alt text.
      expect(await cardIds(page)).toEqual([ids.video, ids.watercolor, ids.hostile, ids.lighthouse]);
      const prompts = await page.$$eval('.card .prompt', (nodes) =>
        nodes.map((n) => n.textContent),
      );
      expect(prompts).toEqual([
        'snow falls on @Video1',
        'watercolor of the lighthouse',
        HOSTILE,
        'a lighthouse at dusk',
      ]);
      const alt = page.locator(`.card[data-id="${ids.lighthouse}"] img`);
      expect(await alt.getAttribute('alt')).toBe('a lighthouse at dusk');
      await page.waitForFunction(
        "[...document.querySelectorAll('.card img')].every((img) => img.complete && img.naturalWidth > 0)",
      );
      expect(await page.locator(`.card[data-id="${ids.lighthouse}"] .seed`).textContent()).toBe(
        SEED,
      );

      // The hostile prompt is text: nothing it holds ran or became an element.
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
      expect(await page.locator('script').count()).toBe(2);
      expect(await page.locator('.card img[src="x"]').count()).toBe(0);

      // The video plays inline: muted, looping, inline, and actually moving.
      const video = page.locator(`.card[data-id="${ids.video}"] video`);
      expect(
        await video.evaluate((node) => {
          const media = node as { muted?: boolean; loop?: boolean; playsInline?: boolean };
          return [media.muted, media.loop, media.playsInline];
        }),
      ).toEqual([true, true, true]);
      await page.waitForFunction("(document.querySelector('.card video')?.currentTime ?? 0) > 0");

      // Filters narrow the cards: model, text (prompt and seed digits), dates.
      await page.selectOption('#model', 'fal-ai/flux/dev/image-to-image');
      expect(await cardIds(page)).toEqual([ids.watercolor]);
      await page.selectOption('#model', '');
      await page.fill('#q', 'lighthouse');
      await expect.poll(() => cardIds(page)).toEqual([ids.watercolor, ids.lighthouse]);
      await page.fill('#q', SEED.slice(0, 12));
      await expect.poll(() => cardIds(page)).toEqual([ids.lighthouse]);
      await page.fill('#q', 'no such thing anywhere');
      await expect.poll(() => cardIds(page)).toEqual([]);
      expect(await page.locator('#empty').textContent()).toBe('No outputs match these filters.');
      await page.click('#reset');
      const today = await page.evaluate<string>(
        "(() => { const d = new Date(); return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0'); })()",
      );
      await page.fill('#from', '2099-01-01');
      await page.dispatchEvent('#from', 'change');
      expect(await cardIds(page)).toEqual([]);
      await page.fill('#from', today);
      await page.fill('#to', today);
      await page.dispatchEvent('#to', 'change');
      expect(await cardIds(page)).toHaveLength(4);
      await page.click('#reset');

      // Keyboard: Tab reaches the cards, arrows move, Enter opens, Esc closes and returns.
      await page.focus('#reset');
      await page.keyboard.press('Tab');
      expect(await activeCard(page)).toBe(ids.video);
      await page.keyboard.press('ArrowRight');
      expect(await activeCard(page)).toBe(ids.watercolor);
      await page.keyboard.press('End');
      expect(await activeCard(page)).toBe(ids.lighthouse);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      expect(await activeCard(page)).toBe(ids.watercolor);
      await page.keyboard.press('Enter');
      const dialog = page.locator('dialog#detail');
      await expect.poll(() => isOpen(dialog)).toBe(true);

      // The detail view shows lineage both ways, the exact seed, and the rerun command.
      const from = dialog.locator('.lineage-from');
      expect(await from.textContent()).toContain('a lighthouse at dusk');
      expect(await from.textContent()).toContain('image_url');
      expect(await dialog.locator('.rerun code').textContent()).toBe(
        `falai rerun ${ids.watercolor}`,
      );
      await from.locator(`button[data-goto="${ids.lighthouse}"]`).click();
      expect(await dialog.locator('.prompt-full').textContent()).toBe('a lighthouse at dusk');
      expect(await dialog.locator('.detail-facts .seed').textContent()).toBe(SEED);
      expect(await dialog.locator('.lineage-to').textContent()).toContain(
        'watercolor of the lighthouse',
      );
      await page.screenshot({ path: join(ARTIFACTS, 'gallery-detail.png') });
      await page.keyboard.press('Escape');
      await expect.poll(() => isOpen(dialog)).toBe(false);
      // The dialog's close event comes a task later: the browser first gives focus back to the
      // card that opened it, then the page moves it to the card last shown.
      await expect.poll(() => activeCard(page)).toBe(ids.lighthouse);

      // The copy button copies (or says it could not) the rerun command.
      const copy = page.locator(`.card[data-id="${ids.hostile}"] .copy`);
      expect(await copy.getAttribute('data-command')).toBe(`falai rerun ${ids.hostile}`);
      await copy.click();
      await expect.poll(() => copy.textContent()).toBe('Copied');

      await page.screenshot({ path: join(ARTIFACTS, 'gallery-file.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(await violations(page)).toEqual([]);
      expect(browser.requests.length).toBeGreaterThan(4);
      for (const url of browser.requests) expect(url.startsWith(`${siteUrl}/`), url).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('from --serve: the same page, and a job that finishes appears on its own', async () => {
    const site = join(env.dir, 'site-live');
    const server = spawn(
      process.execPath,
      [RUN_JS, 'gallery', '--serve', '--port', '0', '--out', site, '--json'],
      { cwd: env.dir, env: env.baseEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines = jsonLines(server);
    const browser = await openBrowser();
    try {
      const listening = (await lines.next()) as { event: string; url: string; items: number };
      expect(listening).toMatchObject({ event: 'listening', items: 4 });
      const origin = listening.url;
      expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      const page = await browser.context.newPage();
      await page.goto(origin);
      await page.waitForSelector('.card');
      expect(await cardIds(page)).toHaveLength(4);

      // A new job, made from the hostile one's output: it appears without a reload.
      const parent = await env.run(['list', '--all', '--json']);
      const records = JSON.parse(parent.stdout) as {
        requests: { requestId: string; outputs?: { url: string }[] }[];
      };
      const hostileUrl = records.requests.find((r) => r.requestId === ids.hostile)?.outputs?.[0]
        ?.url;
      const fresh = await runJob([
        'fal-ai/flux/dev/image-to-image',
        '--set',
        'prompt=a fox, in ink',
        '--set',
        `image_url=${hostileUrl}`,
      ]);
      // The card comes with the job, its image once the file is saved (a second update).
      await page.waitForSelector(`.card[data-id="${fresh.requestId}"] img`, { timeout: 30_000 });
      expect(await cardIds(page)).toHaveLength(5);
      expect(await page.locator('#sub').textContent()).toContain('5 requests');
      expect(await lines.next()).toMatchObject({ event: 'updated', items: 5 });

      await page.locator(`.card[data-id="${fresh.requestId}"]`).press('Enter');
      const dialog = page.locator('dialog#detail');
      expect(await dialog.locator('.lineage-from').textContent()).toContain('a fox');
      await page.keyboard.press('Escape');

      await page.locator(`.card[data-id="${fresh.requestId}"] .copy`).click();
      await expect
        .poll(() => page.evaluate<string>('navigator.clipboard.readText()'))
        .toBe(`falai rerun ${fresh.requestId}`);

      await page.screenshot({ path: join(ARTIFACTS, 'gallery-serve.png'), fullPage: true });
      expect(await violations(page)).toEqual([]);
      for (const url of browser.requests) expect(url.startsWith(origin), url).toBe(true);
      expect(browser.requests).toContain(`${origin}events`);
      expect(browser.requests).toContain(`${origin}index.json`);
    } finally {
      await browser.close();
      server.kill('SIGINT');
    }
    const exitCode = await new Promise<number | null>((resolve) => server.once('close', resolve));
    expect(exitCode).toBe(0);
    const summary = (await lines.last()) as { items: number; url: string };
    expect(summary.items).toBe(5);
  }, 120_000);
});

/** Reads a child's stdout as JSON lines: `next()` for each in turn, `last()` once it ended. */
function jsonLines(child: ChildProcess): { next(): Promise<unknown>; last(): Promise<unknown> } {
  const lines: unknown[] = [];
  const waiting: ((line: unknown) => void)[] = [];
  let buffer = '';
  let stderr = '';
  let read = 0;
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf('\n');
    while (end >= 0) {
      const text = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (text) {
        const line = JSON.parse(text) as unknown;
        const take = waiting.shift();
        if (take) {
          read++;
          take(line);
        }
        lines.push(line);
      }
      end = buffer.indexOf('\n');
    }
  });
  const ended = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    next: () =>
      new Promise((resolve, reject) => {
        if (read < lines.length) {
          resolve(lines[read++]);
          return;
        }
        waiting.push(resolve);
        ended.then(() => reject(new Error(`the gallery server ended early:\n${stderr}`)));
      }),
    last: async () => {
      await ended;
      return lines.at(-1);
    },
  };
}
