import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { SKILL_FILES, SKILL_NAME } from './constants.js';
import { mustDeclare, scanEnvNames } from './env-vars.js';
import { listFiles } from './fs-util.js';

/** One way a skill folder breaks ClawHub's publish rules. */
export interface ClawHubProblem {
  /** File concerned, relative to the folder (`.` for the folder). */
  readonly path: string;
  /** A short rule id: `skill-md`, `plugin-marker`, `text-only`, `file-size`, … */
  readonly rule: string;
  readonly message: string;
}

/** ClawHub's text-file extension allowlist (`packages/schema` `TEXT_FILE_EXTENSIONS`). */
export const CLAWHUB_TEXT_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    'md mdx txt json json5 yaml yml toml js cjs mjs ts tsx jsx py sh rb go rs swift kt java ' +
    'cs cpp c h hpp sql csv ini cfg env xml html css scss sass svg'
  ).split(' '),
);

/** Per-file and total limits of `clawhub skill publish` (CLI 0.23.3). */
export const CLAWHUB_MAX_FILE_BYTES = 10 * 1024 * 1024;
export const CLAWHUB_MAX_TOTAL_BYTES = 50 * 1024 * 1024;
/** OpenClaw skips a larger SKILL.md (`skills.limits.maxSkillFileBytes`). */
export const OPENCLAW_MAX_SKILL_MD_BYTES = 256_000;

const PLUGIN_MARKERS = [
  'openclaw.plugin.json',
  '.codex-plugin/plugin.json',
  '.claude-plugin/plugin.json',
  '.cursor-plugin/plugin.json',
];

function frontmatter(text: string): Map<string, string> | undefined {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!match?.[1]) return undefined;
  const fields = new Map<string, string>();
  for (const line of match[1].split(/\r?\n/)) {
    const kv = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(line);
    if (kv?.[1]) fields.set(kv[1], kv[2] ?? '');
  }
  return fields;
}

/**
 * Checks a skill folder against ClawHub's client-side publish rules and OpenClaw's loader
 * limits (openclaw.md §1, §4): SKILL.md present and loadable, no plugin markers, text files
 * only, size caps, a valid slug and a one-line description, and every environment variable
 * the scripts name declared in SKILL.md. Returns every problem; empty means publishable.
 */
export async function checkClawHubRules(dir: string): Promise<ClawHubProblem[]> {
  const problems: ClawHubProblem[] = [];
  const files = (await listFiles(dir)).filter(
    (file) => !file.split('/').some((part) => part.startsWith('.') || part === 'node_modules'),
  );
  const all = await listFiles(dir);
  for (const marker of PLUGIN_MARKERS) {
    if (all.includes(marker))
      problems.push({
        path: marker,
        rule: 'plugin-marker',
        message: 'a plugin marker makes ClawHub reject the folder as a plugin',
      });
  }
  const skillMds = files.filter((file) => file.toLowerCase() === 'skill.md');
  if (!skillMds.includes(SKILL_FILES.skillMd)) {
    problems.push({ path: '.', rule: 'skill-md', message: 'SKILL.md is missing' });
  }
  if (skillMds.length > 1) {
    problems.push({
      path: '.',
      rule: 'skill-md',
      message: `case-colliding SKILL.md files: ${skillMds.join(', ')}`,
    });
  }
  let total = 0;
  const sources: string[] = [];
  let skillText = '';
  for (const file of files) {
    const path = join(dir, file);
    const size = (await stat(path)).size;
    total += size;
    if (size > CLAWHUB_MAX_FILE_BYTES)
      problems.push({ path: file, rule: 'file-size', message: `${size} bytes is over 10 MiB` });
    const ext = extname(file).slice(1).toLowerCase();
    if (!CLAWHUB_TEXT_EXTENSIONS.has(ext)) {
      problems.push({
        path: file,
        rule: 'text-only',
        message: `.${ext || '(none)'} is not a text file type ClawHub accepts`,
      });
      continue;
    }
    const bytes = await readFile(path);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      problems.push({ path: file, rule: 'text-only', message: 'not valid UTF-8 text' });
      continue;
    }
    if (text.includes('\u0000'))
      problems.push({ path: file, rule: 'text-only', message: 'contains NUL bytes' });
    if (file === 'package.json') {
      try {
        if (typeof (JSON.parse(text) as { openclaw?: unknown }).openclaw === 'object')
          problems.push({
            path: file,
            rule: 'plugin-marker',
            message: 'a package.json with an "openclaw" field marks a plugin',
          });
      } catch {}
    }
    if (file === SKILL_FILES.skillMd) skillText = text;
    if (['js', 'cjs', 'mjs', 'ts', 'sh', 'py'].includes(ext)) sources.push(text);
  }
  if (total > CLAWHUB_MAX_TOTAL_BYTES)
    problems.push({ path: '.', rule: 'total-size', message: `${total} bytes is over 50 MiB` });
  if (skillText) {
    const size = Buffer.byteLength(skillText);
    if (size > OPENCLAW_MAX_SKILL_MD_BYTES)
      problems.push({
        path: SKILL_FILES.skillMd,
        rule: 'skill-md-size',
        message: `${size} bytes; OpenClaw skips SKILL.md files over 256,000 bytes`,
      });
    const fields = frontmatter(skillText);
    if (!fields) {
      problems.push({
        path: SKILL_FILES.skillMd,
        rule: 'frontmatter',
        message: 'SKILL.md must start with a --- frontmatter block closed by ---',
      });
    } else {
      const name = fields.get('name') ?? '';
      if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || name !== SKILL_NAME)
        problems.push({
          path: SKILL_FILES.skillMd,
          rule: 'slug',
          message: `name "${name}" must be "${SKILL_NAME}" (lowercase letters, digits, hyphens)`,
        });
      const description = (fields.get('description') ?? '').replace(/^"|"$/g, '');
      if (!description)
        problems.push({
          path: SKILL_FILES.skillMd,
          rule: 'description',
          message: 'description is required',
        });
      else if (description.length >= 160)
        problems.push({
          path: SKILL_FILES.skillMd,
          rule: 'description',
          message: `description is ${description.length} characters; keep it under 160`,
        });
    }
    const declared = new Set(skillText.match(/\b[A-Z][A-Z0-9_]*[A-Z0-9]\b/g) ?? []);
    const undeclared = new Set<string>();
    for (const source of sources) {
      for (const name of scanEnvNames(source)) {
        if (mustDeclare(name) && !declared.has(name)) undeclared.add(name);
      }
    }
    for (const name of [...undeclared].sort())
      problems.push({
        path: SKILL_FILES.skillMd,
        rule: 'env-undeclared',
        message: `the scripts read ${name} but SKILL.md does not declare it`,
      });
  }
  return problems;
}
