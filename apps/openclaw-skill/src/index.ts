/**
 * @falai/openclaw-skill: builds, installs and schedules the `falai` OpenClaw skill, the
 * successor of the seed Python skill. The CLI's `falai skill build|install|schedule` commands
 * are thin shells over these functions.
 */
export {
  type BuildSkillOptions,
  type BuiltSkill,
  buildSkill,
  defaultCliBundlePath,
} from './build.js';
export { findCliBundle } from './bundle-path.js';
export {
  CLAWHUB_MAX_FILE_BYTES,
  CLAWHUB_MAX_TOTAL_BYTES,
  CLAWHUB_TEXT_EXTENSIONS,
  type ClawHubProblem,
  checkClawHubRules,
  OPENCLAW_MAX_SKILL_MD_BYTES,
} from './clawhub.js';
export {
  OUTPUT_DIR,
  POLL_AUTOMATION_CRON,
  POLL_AUTOMATION_NAME,
  PRIMARY_ENV,
  SKILL_COMMAND,
  SKILL_DESCRIPTION,
  SKILL_FILES,
  SKILL_NAME,
} from './constants.js';
export {
  DELIVERED_TAG,
  renderDeliveries,
  SESSION_TAG,
  type TakeDeliveriesOptions,
  takeDeliveries,
  undelivered,
} from './deliver.js';
export { type EnvVarDoc, KNOWN_ENV_VARS, mustDeclare, scanEnvNames } from './env-vars.js';
export {
  type InstalledSkill,
  type InstallSkillOptions,
  installSkill,
  skillInstallDir,
} from './install.js';
export {
  loadModelFiles,
  type SkillField,
  type SkillMediaLimits,
  type SkillModel,
} from './models.js';
export { openClawMetadata, renderFrontmatter } from './render/frontmatter.js';
export {
  durationLabel,
  EXAMPLE_FILES,
  exampleCommand,
  exampleInput,
  isLongRunning,
  WAIT_LIMIT_SECONDS,
} from './render/model-section.js';
export { renderSkillMarkdown, type SkillMarkdownOptions } from './render/skill-md.js';
export {
  DELIVER_AUTOMATION_NAME,
  deliverDeclarationKey,
  resolveFalaiCommand,
  type ScheduleCommand,
  type ScheduleOptions,
  type ScheduleResult,
  scheduleCommand,
  schedulePolling,
} from './schedule.js';
