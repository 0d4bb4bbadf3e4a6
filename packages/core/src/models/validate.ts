import * as v from 'valibot';
import type { InputIssue } from '../errors/falai-error.js';
import { findUnsafeKey, unsafeKeyIssue } from '../json/unsafe-keys.js';
import { fieldLabel, isObject } from '../json/values.js';
import { classifyFileRef } from '../media/file-ref.js';
import { inputSchema } from './compile.js';
import type { FieldSpec, ModelDefinition } from './definition.js';
import { suggest } from './describe.js';
import { findFileFields } from './file-fields.js';
import { isOverridable, mapIssue, notAnObject } from './issues.js';

/** Options of `validate`. */
export interface ValidateOptions {
  /** Unknown endpoints are errors (MODEL_UNKNOWN) instead of warnings. */
  readonly strict?: boolean;
  /** Read local files and data URIs to check type, format and limits (default true). */
  readonly checkMedia?: boolean;
  /** Where relative paths start (default `process.cwd()`). */
  readonly cwd?: string | undefined;
  /**
   * Send what only the model definition objects to: unknown fields, wrong types, values
   * out of range or not in the list, lengths and item counts and prompt references become
   * warnings (the CLI's `--force-input`). Use when fal changed a model before its definition
   * caught up. Missing required fields, unsafe keys (`__proto__`…), integers whose digits
   * are already lost, unusable file values and local media problems still block.
   * @default false
   */
  readonly force?: boolean;
}

/** Appended to an issue that `force` let through. */
const FORCED_SUFFIX = '(sent anyway: the override was given)';

/** Issues, warnings and notes gathered by the rules. */
export interface Findings {
  issues: InputIssue[];
  warnings: InputIssue[];
  notes: string[];
}

function unknownFields(
  value: Record<string, unknown>,
  props: Readonly<Record<string, FieldSpec>>,
  path: (string | number)[],
  out: InputIssue[],
): void {
  const names = Object.keys(props);
  for (const [key, child] of Object.entries(value)) {
    const spec = Object.hasOwn(props, key) ? props[key] : undefined;
    if (!spec) {
      const close = suggest(key, names);
      out.push({
        path: [...path, key],
        kind: 'unknown',
        message: `Unknown field: ${fieldLabel([...path, key])} (the model does not declare it)`,
        hint: close ? `did you mean "${close}"?` : `known fields: ${names.join(', ')}`,
      });
      continue;
    }
    visit(child, spec, [...path, key], out);
  }
}

function visit(value: unknown, spec: FieldSpec, path: (string | number)[], out: InputIssue[]) {
  if (spec.type === 'object' && spec.properties && isObject(value))
    unknownFields(value, spec.properties, path, out);
  else if (spec.type === 'array' && spec.items && Array.isArray(value)) {
    const items = spec.items;
    value.forEach((item, i) => {
      visit(item, items, [...path, i], out);
    });
  }
}

/** An own property only: nothing inherited is ever read from user input. */
const own = (value: Record<string, unknown>, key: string): unknown =>
  Object.hasOwn(value, key) ? value[key] : undefined;

function countOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (value === undefined || value === null || value === '') return 0;
  return 1;
}

/** Prompt references (`@Image3` needs three images) and the model's reference total. */
function referenceRules(def: ModelDefinition, input: Record<string, unknown>, f: Findings): void {
  const refs = def.references;
  if (refs) {
    const prompt = own(input, refs.promptField);
    const text = typeof prompt === 'string' ? prompt : '';
    for (const token of refs.tokens) {
      const available = countOf(own(input, token.field));
      const pattern = new RegExp(`@${token.token}(\\d+)`, 'g');
      const seen = new Set<number>();
      for (const match of text.matchAll(pattern)) {
        const n = Number(match[1]);
        if (seen.has(n)) continue;
        seen.add(n);
        if (n >= 1 && n <= available) continue;
        const has =
          available === 0
            ? `no ${token.field} ${token.field.endsWith('s') ? 'are' : 'is'} given`
            : `${token.field} has only ${available}`;
        f.issues.push({
          path: [refs.promptField],
          kind: 'reference',
          message: `The prompt refers to @${token.token}${n} but ${has}`,
          hint:
            n === 0
              ? `references count from 1: write @${token.token}1`
              : `add ${token.field} entries or refer to @${token.token}1…@${token.token}${Math.max(1, available)}`,
        });
      }
      const wrongCase = new RegExp(`@${token.token}\\d+`, 'gi');
      for (const match of text.matchAll(wrongCase)) {
        if (!match[0].startsWith(`@${token.token}`)) {
          f.warnings.push({
            path: [refs.promptField],
            kind: 'reference',
            message: `The prompt writes ${match[0]}; references are case-sensitive`,
            hint: `write @${token.token}${match[0].replace(/\D/g, '')}`,
          });
        }
      }
      if (token.expected && available > 0 && seen.size === 0) {
        f.notes.push(
          `Reference ${token.description ?? token.field} in the prompt as @${token.token}1`,
        );
      }
    }
  }
  const total = def.limits?.totalReferences;
  if (total) {
    const used = total.fields.map((name) => [name, countOf(own(input, name))] as const);
    const sum = used.reduce((acc, [, n]) => acc + n, 0);
    if (sum > total.max) {
      const first = used.find(([, n]) => n > 0)?.[0] ?? total.fields[0] ?? '';
      f.issues.push({
        path: [first],
        kind: 'total',
        message: `Too many references: ${used.map(([name, n]) => `${n} ${name}`).join(' + ')} = ${sum}; at most ${total.max} in total`,
        hint: `remove ${sum - total.max} from ${total.fields.join(' or ')}`,
      });
    } else if (sum > 0 && total.description) {
      f.notes.push(total.description);
    }
  }
}

/** Validates an input against a known model definition. Never stops at the first problem. */
export async function validateAgainst(
  def: ModelDefinition,
  input: unknown,
  options: ValidateOptions = {},
): Promise<Findings> {
  const f: Findings = { issues: [], warnings: [], notes: [] };
  const unconfirmed = new Set(
    (def.unconfirmed ?? []).map((u) => (typeof u === 'string' ? u : u.path)),
  );
  if (!isObject(input)) {
    f.issues.push(notAnObject(input));
    return f;
  }
  // Checked before anything walks the input: an own "__proto__" key would swap the
  // prototype of the objects valibot builds.
  const unsafe = findUnsafeKey(input);
  if (unsafe) {
    f.issues.push(unsafeKeyIssue(unsafe));
    return f;
  }
  const parsed = v.safeParse(inputSchema(def), input, { abortEarly: false });
  const badPaths = new Set<string>();
  for (const raw of parsed.issues ?? []) {
    const mapped = mapIssue(def, input, raw, unconfirmed);
    if (!mapped) continue;
    (mapped.warning ? f.warnings : f.issues).push(mapped.issue);
    if (!mapped.warning) badPaths.add(JSON.stringify(mapped.issue.path));
  }
  // A field the model does not declare is most often a typo (`numimages`) that fal would
  // ignore while still charging: it blocks unless the user overrides (issue #11 item 13).
  unknownFields(input, def.input, [], f.issues);
  referenceRules(def, input, f);
  if (options.checkMedia ?? true) {
    const { checkFileMedia } = await import('./media-check.js');
    const cwd = options.cwd ?? process.cwd();
    for (const ref of findFileFields(def, input)) {
      if (badPaths.has(JSON.stringify(ref.path))) continue;
      const kind = classifyFileRef(ref.value).kind;
      if (kind !== 'path' && kind !== 'data-uri') continue;
      const found = await checkFileMedia(ref, def, cwd, unconfirmed);
      f.issues.push(...found.issues);
      f.warnings.push(...found.warnings);
    }
  }
  if (options.force) {
    const forced = f.issues.filter(isOverridable);
    f.issues = f.issues.filter((issue) => !isOverridable(issue));
    for (const issue of forced)
      f.warnings.push({ ...issue, message: `${issue.message} ${FORCED_SUFFIX}` });
  }
  return f;
}
