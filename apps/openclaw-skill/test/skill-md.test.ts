import { describe, expect, it } from 'vitest';
import {
  durationLabel,
  exampleCommand,
  isLongRunning,
  KNOWN_ENV_VARS,
  loadModelFiles,
  renderSkillMarkdown,
  SKILL_DESCRIPTION,
  type SkillModel,
} from '../src/index.js';
import { bashExamples, splitSkillMd } from './helpers.js';

const models = loadModelFiles();
const markdown = renderSkillMarkdown({ models, version: '1.2.3', extraEnvVars: ['SOME_TOKEN'] });
const { frontmatter, body } = splitSkillMd(markdown);

function byCategory(category: string): SkillModel {
  const model = models.find((m) => m.category === category);
  if (!model) throw new Error(`no ${category} model in models/`);
  return model;
}

describe('SKILL.md frontmatter', () => {
  it('names the skill falai and says when to use it in one short line', () => {
    expect(frontmatter.name).toBe('falai');
    expect(frontmatter.version).toBe('1.2.3');
    expect(frontmatter.description).toBe(SKILL_DESCRIPTION);
    expect(SKILL_DESCRIPTION.length).toBeLessThan(160);
    expect(SKILL_DESCRIPTION).not.toMatch(/\n/);
    expect(SKILL_DESCRIPTION).toMatch(/Use when/);
  });

  it('gates on FAL_KEY and node, with an emoji and a valid install spec', () => {
    // biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked field by field below
    const openclaw = (frontmatter.metadata as { openclaw: any }).openclaw;
    expect(openclaw.emoji).toBeTruthy();
    expect(openclaw.primaryEnv).toBe('FAL_KEY');
    expect(openclaw.requires.env).toEqual(['FAL_KEY']);
    expect(openclaw.requires.bins).toEqual(['node']);
    expect(openclaw.install).toHaveLength(1);
    const [spec] = openclaw.install;
    expect(spec).toMatchObject({ kind: 'brew', formula: 'node', bins: ['node'] });
    expect(typeof spec.id).toBe('string');
  });

  it('writes metadata as one line of JSON, the form OpenClaw parses first', () => {
    const line = markdown.split('\n').find((l) => l.startsWith('metadata: '));
    expect(line).toBeDefined();
    expect(() => JSON.parse((line ?? '').slice('metadata: '.length))).not.toThrow();
  });
});

describe('SKILL.md body', () => {
  it('documents every model: id, every input, a worked example', () => {
    expect(models.length).toBeGreaterThanOrEqual(4);
    for (const model of models) {
      expect(body).toContain(`\`${model.endpointId}\``);
      for (const field of Object.keys(model.input)) expect(body).toContain(`\`${field}\``);
      expect(bashExamples(body)).toContain(exampleCommand(model));
    }
  });

  it('uses run for image models and submit for long video jobs', () => {
    const image = byCategory('text-to-image');
    const video = byCategory('video-to-video');
    expect(isLongRunning(image)).toBe(false);
    expect(isLongRunning(video)).toBe(true);
    expect(exampleCommand(image)).toMatch(/scripts\/falai\.mjs run fal-ai\/nano-banana-pro '/);
    expect(exampleCommand(video)).toMatch(/ submit fal-ai\/kling-video\//);
  });

  it("teaches run-and-wait or submit-and-return from each model's duration estimate", () => {
    for (const model of models) expect(model.durationEstimate).toBeGreaterThan(0);
    const image = byCategory('text-to-image');
    const video = byCategory('video-to-video');
    expect(durationLabel(image)).toBe(`about ${image.durationEstimate} s`);
    expect(durationLabel(video)).toBe(
      `about ${Math.round((video.durationEstimate ?? 0) / 60)} min`,
    );
    expect(body).toContain(`Takes ${durationLabel(image)}: run and wait`);
    expect(body).toContain(`Takes ${durationLabel(video)}: submit and return at once`);
    // The estimate decides, not the kind: a slow image model is submitted, a quick video run.
    expect(isLongRunning({ ...image, durationEstimate: 600 })).toBe(true);
    expect(isLongRunning({ ...video, durationEstimate: 20 })).toBe(false);
    const { durationEstimate: _, ...unknown } = video;
    expect(isLongRunning(unknown)).toBe(true);
    expect(durationLabel(unknown)).toBe('unknown');
  });

  it('shows limits, prompt references and nested fields from the registry', () => {
    const video = byCategory('video-to-video');
    const limits = video.limits?.video;
    expect(limits).toBeDefined();
    expect(body).toContain(
      `${limits?.minDurationSeconds}–${limits?.maxDurationSeconds} s, ${limits?.minDimension}–${limits?.maxDimension} px per side, ≤ 200 MB`,
    );
    expect(body).toContain('`@Video1`');
    expect(body).toContain('`@Element1`');
    expect(body).toContain('`elements[].frontal_image_url`');
    expect(body).toContain('at most 4 of `image_urls` + `elements` together');
  });

  it('replaces remote example files by local ones the user can substitute', () => {
    const video = byCategory('video-to-video');
    const command = exampleCommand(video);
    expect(command).toContain('./clip.mp4');
    expect(command).toContain('./photo.png');
    expect(command).not.toContain('example.com');
  });

  it('every command example uses the bundled CLI with --json', () => {
    const commands = bashExamples(body);
    expect(commands.length).toBeGreaterThan(8);
    for (const command of commands) {
      expect(command.startsWith('node {baseDir}/scripts/falai.mjs ')).toBe(true);
      expect(command.endsWith(' --json')).toBe(true);
    }
  });

  it('explains the long-job flow, media delivery, polling and the pending file', () => {
    expect(body).toMatch(/submit now, deliver later/);
    expect(body).toContain('MEDIA:./falai-output/');
    expect(body).toMatch(/CDN URLs expire/);
    expect(body).toContain('skill schedule --session SESSION_KEY --json');
    expect(body).toContain('skill deliver --session SESSION_KEY --json');
    expect(body).toContain('--session SESSION_KEY --json\n');
    expect(body).toMatch(/when nothing finished it prints nothing and nothing is posted/);
    expect(body).toContain('HEARTBEAT.md');
    expect(body).toContain('fal-pending.json');
    expect(body).toContain('openclaw config set skills.entries.falai.apiKey');
    expect(body).not.toContain('integrations.fal.apiKey`:');
  });

  it('declares every environment variable, the extra scanned ones too', () => {
    for (const env of KNOWN_ENV_VARS) expect(body).toContain(`| \`${env.name}\` |`);
    expect(body).toContain('| `SOME_TOKEN` | Read by a bundled library');
  });

  it('stays small enough for OpenClaw and the model', () => {
    expect(Buffer.byteLength(markdown)).toBeLessThan(64_000);
  });
});
