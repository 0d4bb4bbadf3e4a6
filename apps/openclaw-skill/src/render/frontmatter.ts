import {
  PRIMARY_ENV,
  REQUIRED_BINS,
  SKILL_DESCRIPTION,
  SKILL_EMOJI,
  SKILL_HOMEPAGE,
  SKILL_NAME,
} from '../constants.js';

/** The `metadata.openclaw` object OpenClaw gates on (openclaw.md §1.4). */
export interface OpenClawMetadata {
  readonly emoji: string;
  readonly homepage: string;
  readonly primaryEnv: string;
  readonly requires: {
    readonly bins: readonly string[];
    readonly env: readonly string[];
  };
  readonly install: readonly Record<string, unknown>[];
}

/**
 * The gating metadata. Only FAL_KEY is in `requires.env`: OpenClaw fills it from
 * `skills.entries.falai.apiKey` (primaryEnv). The install spec offers Node.js, the one binary
 * the scripts need; the CLI itself ships inside the skill folder.
 */
export function openClawMetadata(): OpenClawMetadata {
  return {
    emoji: SKILL_EMOJI,
    homepage: SKILL_HOMEPAGE,
    primaryEnv: PRIMARY_ENV,
    requires: { bins: [...REQUIRED_BINS], env: [PRIMARY_ENV] },
    install: [
      {
        id: 'node-brew',
        kind: 'brew',
        formula: 'node',
        bins: ['node'],
        label: 'Install Node.js (brew)',
      },
    ],
  };
}

/**
 * The frontmatter block. `metadata` is one line of JSON: the form ClawHub documents and
 * OpenClaw parses first (JSON, then JSON5), so no YAML subtleties apply. The description is
 * JSON-quoted too, which is valid YAML and keeps its colon-free text intact.
 */
export function renderFrontmatter(version: string): string {
  return [
    '---',
    `name: ${SKILL_NAME}`,
    `description: ${JSON.stringify(SKILL_DESCRIPTION)}`,
    `version: ${version}`,
    `homepage: ${SKILL_HOMEPAGE}`,
    `metadata: ${JSON.stringify({ openclaw: openClawMetadata() })}`,
    '---',
    '',
  ].join('\n');
}
