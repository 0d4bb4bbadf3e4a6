import { InputError } from '../errors/falai-error.js';

/** The most rows one batch file may hold. */
export const MAX_BATCH_ROWS = 1_000_000;

/** One row of a batch file: its 1-based line or record number and its values. */
export interface BatchRow {
  /** 1-based row number as a person counts them (CSV: the header is row 0). */
  readonly row: number;
  readonly values: Record<string, unknown>;
}

/** `jsonl` (one JSON object a line) or `csv` (a header line, then one row a line). */
export type BatchRowFormat = 'jsonl' | 'csv';

/** The format a file name says (`.csv`, else JSONL). */
export function rowFormatOf(path: string): BatchRowFormat {
  return /\.csv$/i.test(path) ? 'csv' : 'jsonl';
}

/**
 * Parses the rows of a batch file. JSONL: each non-empty line a JSON object. CSV (csv-parse,
 * imported lazily): the first line names the columns, every value a string (typed later from
 * the model's field types). A malformed row is an `INPUT_INVALID` naming its row number.
 */
export async function parseBatchRows(text: string, format: BatchRowFormat): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  if (format === 'csv') {
    const { parse } = await import('csv-parse/sync');
    let records: Record<string, string>[];
    try {
      records = parse(text, {
        columns: true,
        skip_empty_lines: true,
        trim: true,
        bom: true,
      }) as Record<string, string>[];
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new InputError(`The CSV file could not be read: ${message}. Fix the line it names.`, [
        { path: [], message, kind: 'format' },
      ]);
    }
    records.forEach((values, index) => {
      rows.push({ row: index + 1, values: { ...values } });
    });
  } else {
    const lines = text.split(/\r?\n/);
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new InputError(
          `Row ${index + 1} of the JSONL file is not JSON (${message}); each line must be one JSON object.`,
          [{ path: [`row ${index + 1}`], message, kind: 'format' }],
        );
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new InputError(
          `Row ${index + 1} of the JSONL file is not a JSON object; each line must be one input such as {"prompt": "…"}.`,
          [{ path: [`row ${index + 1}`], message: 'not an object', kind: 'format' }],
        );
      }
      rows.push({ row: index + 1, values: value as Record<string, unknown> });
    });
  }
  if (rows.length > MAX_BATCH_ROWS) {
    throw new InputError(
      `The batch has ${rows.length} rows; at most ${MAX_BATCH_ROWS} fit one batch. Split the file.`,
      [{ path: [], message: 'too many rows', kind: 'range' }],
    );
  }
  return rows;
}
