/**
 * The page's stylesheet, inlined into `index.html` (no fonts or files from elsewhere): the
 * system font stack, light and dark by `prefers-color-scheme`, a quiet card grid.
 */
export const PAGE_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f5;
  --surface: #ffffff;
  --text: #1d1d1f;
  --muted: #6a6a70;
  --line: #e3e3e0;
  --media-bg: #efefec;
  --accent: #2d62c9;
  --accent-soft: rgba(45, 98, 201, 0.12);
  --shadow: 0 1px 2px rgba(0, 0, 0, 0.04), 0 4px 16px rgba(0, 0, 0, 0.04);
  --radius: 12px;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121214;
    --surface: #1b1b1e;
    --text: #ececef;
    --muted: #9d9da5;
    --line: #2d2d32;
    --media-bg: #232327;
    --accent: #86adff;
    --accent-soft: rgba(134, 173, 255, 0.16);
    --shadow: none;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { background: var(--bg); color: var(--text); }
body {
  margin: 0;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-font-smoothing: antialiased;
}
.wrap { max-width: 1440px; margin: 0 auto; padding: 0 clamp(16px, 4vw, 48px); }
header.top { padding: 40px 0 8px; }
h1 { font-size: 22px; font-weight: 600; letter-spacing: -0.01em; margin: 0; }
.sub { color: var(--muted); margin: 4px 0 0; font-size: 14px; }
.filters {
  display: flex; flex-wrap: wrap; gap: 12px; align-items: end;
  margin: 28px 0 8px; padding: 0;
}
.filters label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
.filters .grow { flex: 1 1 280px; }
input, select, button { font: inherit; color: inherit; }
.filters input, .filters select {
  height: 36px; padding: 0 10px; border: 1px solid var(--line); border-radius: 8px;
  background: var(--surface); min-width: 0;
}
.filters input[type="search"] { width: 100%; }
button {
  height: 32px; padding: 0 12px; border: 1px solid var(--line); border-radius: 8px;
  background: var(--surface); cursor: pointer;
}
button:hover { border-color: var(--muted); }
.filters button { height: 36px; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.count { color: var(--muted); font-size: 13px; margin: 16px 0 20px; min-height: 1.5em; }
.grid {
  display: grid; gap: 28px 24px; list-style: none; margin: 0 0 64px; padding: 0;
  grid-template-columns: repeat(auto-fill, minmax(240px, 1fr));
}
.card {
  background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius);
  overflow: hidden; box-shadow: var(--shadow); display: flex; flex-direction: column;
  cursor: pointer; transition: border-color 0.15s ease;
}
.card:hover { border-color: var(--muted); }
.card:focus-visible { outline: 2px solid var(--accent); outline-offset: 3px; }
.media {
  position: relative; aspect-ratio: 4 / 3; background: var(--media-bg); overflow: hidden;
  display: flex; align-items: center; justify-content: center;
}
.media img, .media video {
  position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; display: block;
}
.media .none { color: var(--muted); font-size: 13px; padding: 16px; text-align: center; }
.badge {
  position: absolute; top: 10px; right: 10px; font-size: 11px; padding: 2px 8px;
  border-radius: 99px; background: rgba(0, 0, 0, 0.55); color: #fff; letter-spacing: 0.02em;
}
.body { padding: 14px 16px 16px; display: flex; flex-direction: column; gap: 8px; flex: 1; }
.prompt {
  margin: 0; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical;
  overflow: hidden; overflow-wrap: anywhere;
}
.prompt.empty, .muted { color: var(--muted); }
.meta { margin: 0; font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; font-size: 12.5px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.mono { font-family: var(--mono); font-size: 0.92em; }
.lineage-line { font-size: 12.5px; color: var(--muted); margin: 0; }
.actions { display: flex; gap: 8px; align-items: center; margin-top: auto; padding-top: 4px; }
.copy { font-size: 12.5px; }
.copy.done { border-color: var(--accent); color: var(--accent); }
.empty-state { color: var(--muted); padding: 48px 0; text-align: center; }
.empty-state code, .detail code { font-family: var(--mono); font-size: 0.92em; }
.more { display: block; margin: 0 auto 64px; }
dialog {
  border: 1px solid var(--line); border-radius: 16px; padding: 0; background: var(--surface);
  color: var(--text); width: min(1100px, calc(100vw - 32px)); max-height: calc(100vh - 48px);
}
dialog::backdrop { background: rgba(10, 10, 12, 0.55); }
.detail { display: grid; grid-template-columns: minmax(0, 1.3fr) minmax(300px, 1fr); }
.detail-media {
  background: var(--media-bg); display: flex; flex-direction: column; gap: 8px;
  align-items: center; justify-content: center; padding: 16px; min-height: 320px;
}
.detail-media img, .detail-media video {
  width: 100%; height: auto; max-height: calc(100vh - 120px); object-fit: contain; display: block;
}
.detail-info { padding: 24px 28px 28px; overflow: auto; max-height: calc(100vh - 50px); }
.detail-head { display: flex; justify-content: space-between; gap: 16px; align-items: start; }
.detail-head h2 { font-size: 13px; font-weight: 600; color: var(--muted); margin: 4px 0 0; text-transform: uppercase; letter-spacing: 0.06em; }
.close { width: 32px; padding: 0; font-size: 18px; line-height: 1; }
.prompt-full { margin: 8px 0 20px; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 16px; }
.detail h3 { font-size: 12px; font-weight: 600; color: var(--muted); margin: 22px 0 8px; text-transform: uppercase; letter-spacing: 0.06em; }
.detail .facts { font-size: 13.5px; gap: 6px 16px; }
.detail .facts dd { white-space: normal; overflow-wrap: anywhere; }
.lineage { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.lineage li { display: flex; gap: 10px; align-items: center; font-size: 13px; min-width: 0; }
.lineage button {
  display: flex; gap: 10px; align-items: center; height: auto; padding: 6px 10px 6px 6px;
  text-align: left; min-width: 0; max-width: 100%;
}
.lineage img, .lineage .swatch {
  width: 40px; height: 40px; object-fit: cover; border-radius: 6px; background: var(--media-bg); flex: none;
}
.lineage .text { min-width: 0; overflow-wrap: anywhere; }
.lineage .field { color: var(--muted); font-size: 12px; display: block; }
.rerun { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-top: 24px; }
.rerun code { background: var(--accent-soft); padding: 6px 8px; border-radius: 6px; overflow-wrap: anywhere; }
.hint { color: var(--muted); font-size: 12px; margin: 20px 0 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 760px) {
  .detail { grid-template-columns: 1fr; }
  .detail-info { max-height: none; }
}
@media (prefers-reduced-motion: reduce) { .card { transition: none; } }
`;
