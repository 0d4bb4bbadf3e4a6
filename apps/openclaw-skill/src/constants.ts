/**
 * Identity of the skill. The folder name, the frontmatter `name`, the ClawHub slug and the
 * `skills.entries.<key>` config key must all agree (openclaw.md §1.2, §4), so they live here once.
 */
export const SKILL_NAME = 'falai';

/**
 * The one line the model sees in `<available_skills>` before deciding to read SKILL.md
 * (openclaw.md §1.3): what it does and when to use it, under 160 characters.
 */
export const SKILL_DESCRIPTION =
  'Generate and edit images and edit videos with fal.ai models (Gemini 3 Pro Image, FLUX, Kling O3). Use when asked to create, edit or restyle an image or video.';

export const SKILL_EMOJI = '🎨';
export const SKILL_HOMEPAGE = 'https://fal.ai';

/** The variable OpenClaw fills from `skills.entries.falai.apiKey` (the only gating variable). */
export const PRIMARY_ENV = 'FAL_KEY';

/** Binaries the skill's commands need on PATH (`requires.bins`). */
export const REQUIRED_BINS: readonly string[] = ['node'];

/** Files inside the built skill folder, relative to it. */
export const SKILL_FILES = {
  skillMd: 'SKILL.md',
  wrapper: 'scripts/falai.mjs',
  cliBundle: 'scripts/falai-cli.mjs',
  models: 'references/models.json',
} as const;

/** How the model invokes the CLI; `{baseDir}` is resolved by the model, not by OpenClaw. */
export const SKILL_COMMAND = 'node {baseDir}/scripts/falai.mjs';

/** Where outputs go, relative to the agent workspace (the exec tool's working directory). */
export const OUTPUT_DIR = './falai-output';

/** The automation that polls without a model run (openclaw.md §3.2). */
export const POLL_AUTOMATION_NAME = 'falai poll';
export const POLL_AUTOMATION_CRON = '*/5 * * * *';
