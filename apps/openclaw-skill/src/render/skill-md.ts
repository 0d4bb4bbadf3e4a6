import {
  OUTPUT_DIR,
  POLL_AUTOMATION_CRON,
  POLL_AUTOMATION_NAME,
  SKILL_COMMAND,
  SKILL_NAME,
} from '../constants.js';
import { KNOWN_ENV_VARS } from '../env-vars.js';
import type { SkillModel } from '../models.js';
import { cell } from './format.js';
import { renderFrontmatter } from './frontmatter.js';
import {
  exampleInput,
  isLongRunning,
  renderModelSection,
  WAIT_LIMIT_SECONDS,
} from './model-section.js';

/** What SKILL.md is generated from. */
export interface SkillMarkdownOptions {
  readonly models: readonly SkillModel[];
  /** Written to the frontmatter `version` (ClawHub reads it on publish). */
  readonly version: string;
  /** Extra variable names found in the shipped code, declared in the Environment section. */
  readonly extraEnvVars?: readonly string[];
}

const C = SKILL_COMMAND;

function pick(models: readonly SkillModel[], test: (m: SkillModel) => boolean) {
  return models.find(test);
}

function sectionQuickStart(models: readonly SkillModel[]): string {
  const image = pick(models, (m) => m.category === 'text-to-image') ?? models[0];
  const edit = pick(models, (m) => m.category === 'image-to-image');
  const lines = [
    '## How to run it',
    '',
    `Run every command with the exec tool as \`${C} <command> … --json\` (\`{baseDir}\` is this skill's folder; use its absolute path), from the workspace folder. If a \`falai\` binary is installed you may use \`FALAI_SKILL=openclaw falai <command> … --json\` instead. Always pass \`--json\`: the answer is one JSON document on stdout; on failure it is \`{"error":{"code","message","details"}}\` with a non-zero exit, and the message says what to fix.`,
    '',
    'Model input is a JSON object (single-quoted) or repeated `--set field=value` flags. File inputs take a local path, an `https://` URL or a data URI: local files are checked against the model limits and sent for you, so pass paths the user gave you (images the user sent are in the workspace).',
    '',
  ];
  if (image) {
    lines.push('Generate an image (takes seconds; waits, then downloads):', '');
    lines.push('```bash');
    lines.push(
      `${C} run ${image.endpointId} --set prompt="a lighthouse at dusk, oil painting" --json`,
    );
    lines.push('```', '');
  }
  if (edit) {
    const input = exampleInput(edit);
    const fileField = Object.keys(input).find((key) => key !== 'prompt' && /url/.test(key));
    lines.push('Edit an image the user sent:', '');
    lines.push('```bash');
    lines.push(
      `${C} run ${edit.endpointId} --set prompt="make it a watercolor painting"${fileField ? ` --set ${fileField}=./photo.png` : ''} --json`,
    );
    lines.push('```', '');
  }
  lines.push(
    `\`run\` prints the request id and the downloaded files (\`outputs[].path\`, under \`${OUTPUT_DIR}/\` in the workspace). If it stops waiting before the job ends, the request stays pending: collect it later with \`poll\` (below) instead of submitting again, which would pay twice.`,
    '',
  );
  return lines.join('\n');
}

function sectionShowing(): string {
  return [
    '## Showing results to the user',
    '',
    `Outputs are downloaded into the workspace (\`${OUTPUT_DIR}/<request-id>-<n>.<ext>\`). Send the file itself, not fal's link: fal's CDN URLs expire, and OpenClaw refuses private URLs. End your reply with one line per file, on its own line, outside code or quotes:`,
    '',
    '```text',
    `MEDIA:${OUTPUT_DIR}/<request-id>-0.png`,
    '```',
    '',
    'or pass the same path to the message tool as `media`. Give the URL only as an extra, saying it expires.',
    '',
  ].join('\n');
}

function sectionLongJobs(models: readonly SkillModel[]): string {
  const video = pick(models, isLongRunning);
  const lines = [
    '## Long jobs (video): submit now, deliver later',
    '',
    `Each model below says how long it takes (its duration estimate). Up to ${WAIT_LIMIT_SECONDS} s (images): \`run\` and wait, then send the file. Longer (video, minutes): never wait in one call: \`submit\` with \`--session <your session key>\` (the key of this conversation), tell the user it is running, and return at once. Every submitted request is recorded in the workspace file \`fal-pending.json\`, so nothing is lost across turns or restarts.`,
    '',
  ];
  const videoField = video
    ? Object.entries(video.input).find(([, f]) => f.type === 'file' && f.media === 'video')?.[0]
    : undefined;
  if (video && videoField) {
    lines.push('```bash');
    lines.push(
      `${C} submit ${video.endpointId} --set prompt="turn the scene into a snowy winter day, keep the camera motion of @Video1" --set ${videoField}=./clip.mp4 --session SESSION_KEY --json`,
    );
    lines.push(`${C} status REQUEST_ID --json`);
    lines.push(`${C} list --json`);
    lines.push(`${C} poll --download --json`);
    lines.push(`${C} result REQUEST_ID --json`);
    lines.push('```', '');
  }
  lines.push(
    '`submit` prints `requestId`. `status` shows where one request is; `list` shows every pending one. `poll --download` checks them all once, records the finished ones and downloads their outputs; it prints `completed` (each with `outputs[].path`, or an `error`). `result` fetches one finished request again (`download REQUEST_ID --json` saves its files). A failed request carries the reason in `error.message`: tell the user, fix the input and submit again only if they want.',
    '',
    `To stop a job the user no longer wants: \`${C} cancel REQUEST_ID --json\`.`,
    '',
    '### Delivering finished jobs to the chat',
    '',
    `After a long submit, schedule delivery to this session once (it creates the OpenClaw automation \`falai deliver <session key>\`, \`${POLL_AUTOMATION_CRON}\`, when the gateway is reachable, and otherwise prints the exact command for the user):`,
    '',
    '```bash',
    `${C} skill schedule --session SESSION_KEY --json`,
    `${C} skill deliver --session SESSION_KEY --json`,
    '```',
    '',
    'The automation runs `skill deliver --session <key>` and announces its output to that session: one poll pass, then for each finished request of the session a caption and one `MEDIA:<path>` line per output (a failed one: its reason), each request once; when nothing finished it prints nothing and nothing is posted. Replace `SESSION_KEY` with your session key. Without a session, `skill schedule` only polls (`' +
      POLL_AUTOMATION_NAME +
      '`: `poll --download --json`, nothing posted) and you collect results with `poll`. Older OpenClaw versions without automations use this HEARTBEAT.md line instead:',
    '',
    '```text',
    `- Collect finished fal.ai jobs: run \`${C} poll --download --json\` and send new outputs to the user.`,
    '```',
    '',
  );
  return lines.join('\n');
}

function sectionModels(models: readonly SkillModel[]): string {
  const lines = [
    '## Models',
    '',
    `List them with \`${C} models --json\`; \`${C} model-info <endpoint> --json\` gives one model's JSON Schema. Full definitions: \`{baseDir}/references/models.json\`. Any other model of fal's catalogue works too, checked against the schema fal publishes: find one with \`models search <words> --json\` (\`--category text-to-image\`, \`image-to-video\`, …), read its fields with \`model-info\`, and its unit price with \`pricing\`. A mistyped endpoint id is refused before anything is paid, naming the closest ids.`,
    '',
    '```bash',
    `${C} models --json`,
    `${C} model-info ${models[0]?.endpointId ?? 'fal-ai/nano-banana-pro'} --json`,
    `${C} models search upscale --json`,
    `${C} pricing ${models[0]?.endpointId ?? 'fal-ai/nano-banana-pro'} --json`,
    '```',
    '',
    "Example inputs use `./photo.png` and `./clip.mp4`: replace them with the user's files.",
    '',
  ];
  for (const model of models) lines.push(renderModelSection(model));
  return lines.join('\n');
}

function sectionSetup(): string {
  return [
    '## Setup and key',
    '',
    'The skill needs a fal.ai key (https://fal.ai/dashboard/keys). The user stores it once in OpenClaw, which passes it to the skill as FAL_KEY:',
    '',
    '```text',
    `openclaw config set skills.entries.${SKILL_NAME}.apiKey <fal key>`,
    '```',
    '',
    `Check it (the key is shown masked, never in full; never print, log or repeat a key):`,
    '',
    '```bash',
    `${C} check-key --json`,
    '```',
    '',
    'A key in the environment (FAL_KEY, or FAL_KEY_ID + FAL_KEY_SECRET) wins. The legacy `integrations.fal.apiKey` is not read (OpenClaw rejects it), and keys in TOOLS.md or in the `## Tools` section of AGENTS.md are only a fallback for old setups. Pending requests live in the workspace `fal-pending.json`; a file left by the old Python skill is migrated on first use.',
    '',
  ].join('\n');
}

function sectionEnvironment(extra: readonly string[]): string {
  const lines = [
    '## Environment',
    '',
    'Only FAL_KEY is required. The scripts may also read these variables (all optional):',
    '',
    '| variable | meaning |',
    '|---|---|',
  ];
  const known = new Set(KNOWN_ENV_VARS.map((env) => env.name));
  for (const env of KNOWN_ENV_VARS) lines.push(`| \`${env.name}\` | ${cell(env.description)} |`);
  for (const name of [...new Set(extra)].filter((n) => !known.has(n)).sort())
    lines.push(`| \`${name}\` | Read by a bundled library; falai does not need it. |`);
  lines.push('');
  return lines.join('\n');
}

function sectionErrors(): string {
  return [
    '## When something fails',
    '',
    '| error code | what to do |',
    '|---|---|',
    '| `AUTH_MISSING` | No key: ask the user to run the `openclaw config set` line above. |',
    '| `AUTH_REJECTED` | fal refused the key: ask the user for a valid key. |',
    '| `INPUT_INVALID` | `details.issues` lists each bad field with a hint: fix the input and retry. |',
    '| `MEDIA_INVALID` | A file is the wrong kind or outside the limits: tell the user which limit. |',
    '| `MODEL_UNKNOWN` | fal does not know the id: the message names the closest ids (`details.suggestions`); else search with `models search <words> --json`. |',
    '| `RATE_LIMITED`, `NETWORK_ERROR`, `API_ERROR` | Temporary: wait a little and retry; for a `submit`, first check `list --json` so you do not pay twice. |',
    '| `REQUEST_FAILED`, `REQUEST_CANCELLED` | The job ended without output: report `message`. |',
    '| `STORE_CORRUPT` | The pending file is damaged; it is left untouched: show the user its path. |',
    '',
  ].join('\n');
}

/**
 * The whole SKILL.md: frontmatter plus a body generated from the model registry. The model
 * reads it on every use, so it stays short (well under OpenClaw's 256,000-byte limit).
 */
export function renderSkillMarkdown(options: SkillMarkdownOptions): string {
  const { models } = options;
  return [
    renderFrontmatter(options.version),
    '# falai: images and video with fal.ai',
    '',
    "Generate images from text, edit images, and edit videos with fal.ai models. Jobs run on fal's queue; this skill submits them, tracks them in the workspace and downloads the results so you can send them to the user.",
    '',
    sectionQuickStart(models),
    sectionShowing(),
    sectionLongJobs(models),
    sectionModels(models),
    sectionSetup(),
    sectionErrors(),
    sectionEnvironment(options.extraEnvVars ?? []),
  ].join('\n');
}
