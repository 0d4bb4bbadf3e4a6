/**
 * Every environment variable the skill's code may read, with what it does. ClawHub's analysis
 * flags code that reads variables the skill does not declare (openclaw.md §4), while
 * `requires.env` gates eligibility, so only FAL_KEY is *required*; the rest are declared in
 * the generated "Environment" section of SKILL.md (OpenClaw 2026.9 and ClawHub have no
 * frontmatter field for optional variables). `checkClawHubRules` verifies that every
 * variable name found in the shipped scripts appears there.
 */
export interface EnvVarDoc {
  readonly name: string;
  readonly description: string;
  /** A credential: never printed, only ever masked. */
  readonly secret?: boolean;
}

/** The documented variables, in the order SKILL.md lists them. */
export const KNOWN_ENV_VARS: readonly EnvVarDoc[] = [
  {
    name: 'FAL_KEY',
    description:
      'fal.ai API key (`key_id:key_secret`). Filled by OpenClaw from `skills.entries.falai.apiKey`.',
    secret: true,
  },
  {
    name: 'FAL_KEY_ID',
    description: 'Key id, used with FAL_KEY_SECRET when FAL_KEY is not set.',
    secret: true,
  },
  { name: 'FAL_KEY_SECRET', description: 'Key secret, paired with FAL_KEY_ID.', secret: true },
  {
    name: 'FAL_ADMIN_KEY',
    description: 'Never needed; its value is only kept out of stored requests.',
    secret: true,
  },
  {
    name: 'FAL_PENDING_FILE',
    description: 'Pending-request file (default: the workspace `fal-pending.json`).',
  },
  {
    name: 'FALAI_SKILL',
    description: 'Set to `openclaw` by `scripts/falai.mjs`: use the OpenClaw workspace defaults.',
  },
  {
    name: 'FALAI_STORE',
    description: 'Pending store: `file:<path>`, `sqlite:<path>` or `redis://host:port/db`.',
  },
  { name: 'FALAI_BASE_URL', description: 'Send fal calls to another server (e.g. the emulator).' },
  {
    name: 'FALAI_API_URL',
    description: "fal's Platform API only (catalogue, prices, history; overrides FALAI_BASE_URL).",
  },
  {
    name: 'FALAI_DOWNLOAD_IDLE_TIMEOUT',
    description: 'Fail an output download that moves no byte for this long (e.g. 30s).',
  },
  {
    name: 'FALAI_DOWNLOAD_MAX_BYTES',
    description: 'Largest output file accepted (e.g. 500m; default 4g).',
  },
  { name: 'FALAI_CACHE_DIR', description: 'Cache folder (catalogue, schemas, prices).' },
  {
    name: 'FALAI_HISTORY_RETENTION_DAYS',
    description: 'Days finished requests stay in history (0 keeps them all).',
  },
  { name: 'FALAI_QUEUE_URL', description: 'Queue API server only (overrides FALAI_BASE_URL).' },
  { name: 'FALAI_RUN_URL', description: 'Synchronous run server only (overrides FALAI_BASE_URL).' },
  {
    name: 'FALAI_REST_URL',
    description: 'REST server (storage uploads) only (overrides FALAI_BASE_URL).',
  },
  { name: 'FALAI_CONFIG', description: "Path of falai's config file." },
  { name: 'FALAI_CONFIG_DIR', description: "falai's config folder (default ~/.config/falai)." },
  { name: 'FALAI_DATA_DIR', description: "falai's data folder." },
  { name: 'FALAI_MODELS_DIR', description: 'Extra model definition files.' },
  { name: 'FALAI_OUTPUT_DIR', description: 'Where outputs are downloaded.' },
  { name: 'FALAI_DEBUG', description: '`1` prints stack traces on errors.' },
  {
    name: 'FALAI_TEST_STORE_STOP',
    description: "falai's own tests only: pauses a store write (SIGSTOP). Never set it.",
  },
  {
    name: 'FALAI_CONTENT_TYPE',
    description: '`json` forces JSON output (the skill passes --json).',
  },
  {
    name: 'OPENCLAW_WORKSPACE_DIR',
    description: 'The agent workspace (pending file, outputs, legacy key files).',
  },
  { name: 'OPENCLAW_STATE_DIR', description: "OpenClaw's state folder (default ~/.openclaw)." },
  { name: 'OPENCLAW_PROFILE', description: 'OpenClaw profile: state in ~/.openclaw-<profile>.' },
  {
    name: 'OPENCLAW_CONFIG_PATH',
    description: 'openclaw.json, read for `skills.entries.falai.apiKey`.',
  },
  { name: 'REDIS_URL', description: 'Redis URL for the redis store.' },
  { name: 'XDG_CONFIG_HOME', description: 'Base of the default config folder.' },
  { name: 'XDG_STATE_HOME', description: 'Base of the default pending file outside OpenClaw.' },
  { name: 'HOME', description: 'Home folder, for the default paths above.' },
];

/**
 * Names that must be declared when the shipped code mentions them: anything of ours
 * (FAL_/FALAI_/OPENCLAW_) and anything that looks like a credential.
 */
export function mustDeclare(name: string): boolean {
  return (
    /^(FAL|FALAI|OPENCLAW)_[A-Z0-9_]+$/.test(name) ||
    /(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)(_|$)/.test(name)
  );
}

/**
 * Environment variable names a JavaScript file reads or names: `process.env.X`,
 * `process.env['X']`, destructured `env.X`, and quoted FAL_/FALAI_/OPENCLAW_ names (code often
 * looks variables up by a name held in a string).
 */
export function scanEnvNames(source: string): Set<string> {
  const names = new Set<string>();
  const patterns = [
    /\bprocess\.env\.([A-Z_][A-Z0-9_]*)\b/g,
    /\bprocess\.env\[\s*['"`]([A-Z_][A-Z0-9_]*)['"`]\s*\]/g,
    /\benv\.([A-Z_][A-Z0-9_]*)\b/g,
    /\benv\[\s*['"`]([A-Z_][A-Z0-9_]*)['"`]\s*\]/g,
    /['"`]((?:FAL|FALAI|OPENCLAW)_[A-Z0-9_]+)['"`]/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const name = match[1];
      if (name && /[A-Z]/.test(name) && name.length > 1) names.add(name);
    }
  }
  return names;
}
