import { SKILL_FILES } from './constants.js';

const bundleName = SKILL_FILES.cliBundle.split('/').pop();

/**
 * `scripts/falai.mjs`: the command the model runs. It pins the OpenClaw defaults before the
 * bundled CLI loads (FALAI_SKILL=openclaw: the pending file is the workspace's
 * `fal-pending.json`), and turns a too-old Node into a JSON error instead of a syntax crash.
 */
export function renderWrapperScript(): string {
  return `#!/usr/bin/env node
// falai OpenClaw skill entry point: node {baseDir}/scripts/falai.mjs <command> ... --json
// Runs the bundled falai CLI (${bundleName}) with the OpenClaw defaults: FALAI_SKILL=openclaw
// makes the workspace's fal-pending.json the pending-request file.
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  const message = \`falai needs Node.js 20 or newer; this is \${process.version}. Install a newer Node.js.\`;
  process.stdout.write(\`\${JSON.stringify({ error: { code: 'CONFIG_INVALID', message } })}\\n\`);
  process.exit(3);
}
process.env.FALAI_SKILL = 'openclaw';
await import('./${bundleName}');
`;
}
