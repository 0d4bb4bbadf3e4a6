import { resolve } from 'node:path';
import type { InspectOutput, Provenance } from '@falai/core';
import { MediaError, readProvenance } from '@falai/core';
import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';

/** Reads back how a saved output was made, from the file alone. */
export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary =
    'Show how a file falai saved was made: prompt, model, seed, cost, inputs and lineage.';
  static override description =
    'Reads the provenance falai writes into every output it saves (PNG text chunks; XMP in JPEG, WebP and MP4/MOV): request id, model, the full input (files by digest and name), the exact seed, timings, cost and the requests it was made from. It needs only the file: no store, no key, no network, so it works on any machine the file was copied to. A file without falai provenance (made by another tool, or stripped by an editor or a chat app) exits 4.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> falai-output/00000000-0000-4000-8000-000000000001-0.png',
    '<%= config.bin %> <%= command.id %> ~/Downloads/render.webp --json',
  ];
  static override args = {
    file: Args.string({
      required: true,
      description: 'A file falai saved (PNG, JPEG, WebP, MP4/MOV).',
    }),
  };

  async run(): Promise<InspectOutput> {
    const given = this.args.file;
    const file = resolve(given);
    const found = await readProvenance(file);
    if (!found) {
      throw new MediaError(
        `${given} carries no falai provenance: falai did not save it, or a tool removed its ` +
          'metadata (image editors and chat apps often do). falai inspect reads the PNG, JPEG, ' +
          'WebP and MP4/MOV files falai saved.',
        { details: { file, reason: 'no-provenance' } },
      );
    }
    if (!this.jsonEnabled()) this.log(describe(file, found.format, found.provenance));
    return { file, format: found.format, source: found.source, provenance: found.provenance };
  }
}

/** A value of the input, on one line. */
function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (isFileMarker(value)) {
    const name = value.name ? `${value.name} ` : '';
    const url = value.url ? ` ${value.url}` : '';
    return `<file ${name}${value.digest ?? ''}${url}>`.replace(/ >$/, '>');
  }
  return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item));
}

function isFileMarker(
  value: unknown,
): value is { $file: string; name?: string; digest?: string; url?: string } {
  return typeof value === 'object' && value !== null && '$file' in value;
}

/** The human page: the essentials first, then every other input field. */
function describe(file: string, format: string, provenance: Provenance): string {
  const input = provenance.input ?? {};
  const rows: [string, string][] = [
    ['file', `${file} (${format})`],
    ['model', provenance.endpointId],
  ];
  if (typeof input.prompt === 'string') rows.push(['prompt', input.prompt]);
  if (provenance.seed !== undefined) rows.push(['seed', provenance.seed]);
  rows.push(['request', provenance.requestId]);
  if (provenance.output) rows.push(['output', `#${provenance.output.index}`]);
  if (provenance.submittedAt) rows.push(['submitted', provenance.submittedAt]);
  if (provenance.completedAt) {
    const took =
      provenance.submittedAt !== undefined
        ? ` (${((Date.parse(provenance.completedAt) - Date.parse(provenance.submittedAt)) / 1000).toFixed(1)}s after submit)`
        : '';
    rows.push(['completed', `${provenance.completedAt}${took}`]);
  }
  if (provenance.cost) {
    rows.push(['cost', `${provenance.cost.amount} ${provenance.cost.currency}`]);
  }
  for (const parent of provenance.parents ?? []) {
    const which = parent.output === undefined ? '' : ` #${parent.output}`;
    const field = parent.field ? ` (as ${parent.field})` : '';
    rows.push(['made from', `${parent.requestId}${which}${field}`]);
  }
  rows.push(['falai', provenance.falaiVersion]);
  for (const [key, value] of Object.entries(input)) {
    if (key === 'prompt') continue;
    rows.push([`  ${key}`, show(value)]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  const inputAt = rows.findIndex(([label]) => label.startsWith('  '));
  if (inputAt >= 0) lines.splice(inputAt, 0, 'input');
  return lines.join('\n');
}
