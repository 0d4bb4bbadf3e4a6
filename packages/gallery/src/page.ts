import { createHash } from 'node:crypto';
import { escapeHtml, jsonForScript } from './escape.js';
import type { GalleryItem } from './items.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

/** The JSON index: embedded in `index.html` and written beside it as `index.json`. */
export interface GalleryData {
  /** Changes whenever the content changes; the live page compares it. */
  readonly version: string;
  readonly title: string;
  readonly generatedAt: string;
  /** True when the page is served by `falai gallery --serve` and should listen for updates. */
  readonly live: boolean;
  /** Newest first. */
  readonly items: readonly GalleryItem[];
}

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The policy the page enforces on itself: its own inline script and style (by hash, so nothing
 * injected could run), media and images from its own folder (`file:` when opened from disk,
 * `'self'` when served), requests only to where it came from, and nothing else.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    `script-src ${hash(PAGE_SCRIPT)}`,
    `style-src ${hash(PAGE_STYLE)}`,
    "img-src 'self' file: data: blob:",
    "media-src 'self' file: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** How many cards the no-script list shows (the script renders all of them). */
const NOSCRIPT_LIMIT = 500;

/**
 * The whole page: inline style and script, the data index as JSON in a non-executed script
 * element (escaped with {@link jsonForScript}), and a plain list for browsers without script.
 * Every piece of record text in the markup goes through {@link escapeHtml}.
 */
export function renderPage(data: GalleryData): string {
  const title = escapeHtml(data.title);
  const fallback = data.items
    .slice(0, NOSCRIPT_LIMIT)
    .map((item) => {
      const media = item.media[0];
      const label = escapeHtml(item.prompt || item.endpointId);
      const link = media ? `<a href="${escapeHtml(media.src)}">${label}</a>` : label;
      return `<li>${link} <small>${escapeHtml(item.endpointId)} · ${escapeHtml(item.id)}</small></li>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy())}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="falai gallery">
<title>${title}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<div class="wrap">
<header class="top">
<h1>${title}</h1>
<p class="sub" id="sub">Made with falai · ${data.items.length} ${data.items.length === 1 ? 'request' : 'requests'} · built <time datetime="${escapeHtml(data.generatedAt)}">${escapeHtml(data.generatedAt.slice(0, 16).replace('T', ' '))} UTC</time></p>
<form class="filters" id="filters" role="search" aria-label="Filter outputs">
<label class="grow">Search<input type="search" id="q" placeholder="Prompt, request id, seed… (press /)" autocomplete="off"></label>
<label>Model<select id="model"><option value="">All models</option></select></label>
<label>From<input type="date" id="from"></label>
<label>To<input type="date" id="to"></label>
<button type="button" id="reset">Clear</button>
</form>
</header>
<main>
<p class="count" id="count" aria-live="polite"></p>
<p class="empty-state" id="empty" hidden></p>
<div class="grid" id="grid" aria-label="Outputs; arrow keys move, Enter opens"></div>
<button type="button" class="more" id="more" hidden>Show more</button>
<noscript><ul>
${fallback}
</ul></noscript>
</main>
</div>
<dialog id="detail" aria-label="Output details">
<div class="detail">
<div class="detail-media"></div>
<div class="detail-info">
<div class="detail-head"><h2>Prompt</h2><button type="button" class="close" aria-label="Close (Esc)">×</button></div>
<p class="prompt-full"></p>
<dl class="facts detail-facts"></dl>
<h3>Made from</h3>
<ul class="lineage lineage-from"></ul>
<h3>Made from this</h3>
<ul class="lineage lineage-to"></ul>
<h3 class="settings-head">Settings</h3>
<dl class="facts detail-settings"></dl>
<div class="rerun"></div>
<p class="hint">← → previous and next · Esc closes</p>
</div>
</div>
</dialog>
<div class="sr-only" id="live" aria-live="polite"></div>
<script type="application/json" id="gallery-data">${jsonForScript(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
