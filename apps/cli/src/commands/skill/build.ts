import type { ModelDefinition, ModelRegistry } from '@falai/core';
import { FalaiError } from '@falai/core';
import { assertResolved } from '@falai/core/internal';
import type { BuiltSkill, ClawHubProblem, SkillModel } from '@falai/openclaw-skill';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';

/** JSON result of `falai skill build`. */
export type SkillBuildOutput = BuiltSkill & { readonly problems: readonly ClawHubProblem[] };

/** Writes the OpenClaw skill folder (for `openclaw skills install <dir>` or ClawHub publish). */
export default class SkillBuild extends BaseCommand<typeof SkillBuild> {
  static override summary = 'Write the falai OpenClaw skill folder.';
  static override description =
    "Generates the falai skill: SKILL.md from the model registry (built-in models plus your model folders, and any fal catalogue model chosen with --model), references/models.json, scripts/falai.mjs and a self-contained copy of this CLI. Then checks the folder against ClawHub's publish rules. Install it with `openclaw skills install <dir> --as falai`, or use `falai skill install`.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> --out ./dist/falai',
    '<%= config.bin %> <%= command.id %> --out ./falai --json',
    '<%= config.bin %> <%= command.id %> --out ./falai --model fal-ai/flux/dev --model fal-ai/kling-video/v2.1/master/text-to-video',
  ];
  static override flags = {
    out: Flags.string({
      char: 'o',
      required: true,
      description: 'The skill folder to write (a previous build there is replaced).',
    }),
    'cli-bundle': Flags.string({
      description: 'The single-file CLI build to ship (default: the one this CLI came with).',
    }),
    force: Flags.boolean({ description: 'Write into a non-empty folder that is not a skill.' }),
    model: Flags.string({
      char: 'm',
      multiple: true,
      description:
        "Also document this endpoint (repeatable): any model of fal's catalogue, its definition fetched and cached like model-info's.",
    }),
  };

  async run(): Promise<SkillBuildOutput> {
    const { buildSkill, checkClawHubRules, findCliBundle } = await import('@falai/openclaw-skill');
    const cliBundlePath = findCliBundle({
      flag: this.flags['cli-bundle'],
      packageRoot: this.config.root,
      scriptPath: process.argv[1],
    });
    const registry = await this.registry();
    const chosen = await chosenModels(registry, this.flags.model ?? [], (line) => this.note(line));
    const known = registryModels(registry);
    const built = await buildSkill({
      outDir: this.flags.out,
      models: [
        ...known.filter((model) => !chosen.some((c) => c.endpointId === model.endpointId)),
        ...chosen,
      ],
      version: this.config.version,
      force: this.flags.force,
      ...(cliBundlePath ? { cliBundlePath } : {}),
    });
    const problems = await checkClawHubRules(built.dir);
    this.log(`Wrote the falai skill ${built.version} to ${built.dir}`);
    this.log(`  ${built.files.length} files, ${built.models.length} models`);
    for (const problem of problems) this.log(`  ClawHub: ${problem.path}: ${problem.message}`);
    this.note(`Install it: openclaw skills install ${built.dir} --as falai`);
    return { ...built, problems };
  }
}

/**
 * The definitions of the endpoints given with `--model`: a model file's, else fal's catalogue's
 * (fetched, or cached). An id fal does not know, or one without a usable schema, stops the build:
 * SKILL.md must not document a model the skill cannot validate.
 */
export async function chosenModels(
  registry: ModelRegistry,
  endpointIds: readonly string[],
  onNote: (line: string) => void,
): Promise<ModelDefinition[]> {
  const chosen: ModelDefinition[] = [];
  for (const endpointId of new Set(endpointIds)) {
    const resolution = await registry.resolve(endpointId);
    assertResolved(resolution);
    for (const warning of resolution.warnings) onNote(`⚠️  ${warning}`);
    if (!resolution.definition) {
      throw new FalaiError(
        'MODEL_UNKNOWN',
        `Cannot document ${endpointId} in the skill: ${resolution.warnings[0] ?? 'no definition'}. Check the id with \`falai models search\`, or describe it in FALAI_MODELS_DIR.`,
        { details: { endpointId, status: resolution.status, suggestions: resolution.suggestions } },
      );
    }
    chosen.push(resolution.definition);
  }
  return chosen;
}

/** Every model the CLI knows (built-ins and the user's folders), documented in SKILL.md. */
export function registryModels(registry: ModelRegistry): SkillModel[] {
  return registry
    .list()
    .map((summary) => registry.get(summary.endpointId))
    .filter((model): model is NonNullable<typeof model> => model !== undefined);
}
