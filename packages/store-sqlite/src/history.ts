import { type HistoryQuery, searchTerms, statusList } from '@falai/core/store-kit';
import type { Database } from 'better-sqlite3';

/**
 * History search on SQLite: an FTS5 index of each request's prompt, kept in step with the
 * `requests` table by triggers (so every writer, old or new, keeps it right), and one query
 * that walks the time index newest first, keeping rows whose prompt matches.
 */

/** The index table: contentless (it holds only the index, never the prompts themselves). */
export const HISTORY_TABLE = 'requests_fts';

/** Every schema object the history index adds (the FTS5 table, its shadow tables, triggers). */
export const HISTORY_OBJECTS: readonly string[] = [
  HISTORY_TABLE,
  `${HISTORY_TABLE}_data`,
  `${HISTORY_TABLE}_idx`,
  `${HISTORY_TABLE}_content`,
  `${HISTORY_TABLE}_docsize`,
  `${HISTORY_TABLE}_config`,
  `${HISTORY_TABLE}_insert`,
  `${HISTORY_TABLE}_update`,
  `${HISTORY_TABLE}_delete`,
];

/**
 * The prompt of the record JSON in `row.record` (core's `promptOf`: the input's `prompt`, else
 * `text`, when a string), or NULL. Damaged JSON gives NULL instead of failing the write.
 */
function promptExpression(row: string): string {
  const field = (name: string) => `json_extract(${row}.record, '$.input.fields.${name}')`;
  const type = (name: string) => `json_type(${row}.record, '$.input.fields.${name}')`;
  return `CASE WHEN NOT json_valid(${row}.record) THEN NULL
    WHEN ${type('prompt')} = 'text' THEN ${field('prompt')}
    WHEN ${type('text')} = 'text' THEN ${field('text')} END`;
}

/**
 * Creates the index and its triggers, and indexes the records already there. The tokenizer
 * splits words the way core's `searchWords` does (letters, digits, private use; case folded;
 * accents kept), so every store finds the same records.
 */
export function createHistoryIndex(db: Database): void {
  db.exec(`
    CREATE VIRTUAL TABLE ${HISTORY_TABLE} USING fts5(
      prompt, content = '', contentless_delete = 1,
      tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co'"
    );
    INSERT INTO ${HISTORY_TABLE} (rowid, prompt)
      SELECT rowid, prompt FROM (SELECT rowid, ${promptExpression('requests')} AS prompt FROM requests)
      WHERE prompt IS NOT NULL;
    CREATE TRIGGER ${HISTORY_TABLE}_insert AFTER INSERT ON requests BEGIN
      INSERT INTO ${HISTORY_TABLE} (rowid, prompt)
        SELECT new.rowid, prompt FROM (SELECT ${promptExpression('new')} AS prompt)
        WHERE prompt IS NOT NULL;
    END;
    CREATE TRIGGER ${HISTORY_TABLE}_update AFTER UPDATE OF record ON requests
    WHEN (${promptExpression('old')}) IS NOT (${promptExpression('new')}) BEGIN
      DELETE FROM ${HISTORY_TABLE} WHERE rowid = old.rowid;
      INSERT INTO ${HISTORY_TABLE} (rowid, prompt)
        SELECT new.rowid, prompt FROM (SELECT ${promptExpression('new')} AS prompt)
        WHERE prompt IS NOT NULL;
    END;
    CREATE TRIGGER ${HISTORY_TABLE}_delete AFTER DELETE ON requests BEGIN
      DELETE FROM ${HISTORY_TABLE} WHERE rowid = old.rowid;
    END;
  `);
}

/**
 * The SQL for a history query: newest first along the time (or endpoint) index, prompt words
 * matched as prefixes through the FTS5 index. Undefined when no record can match.
 */
export function historySql(
  query: HistoryQuery,
): { readonly sql: string; readonly params: (string | number)[] } | undefined {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const terms = searchTerms(query.text);
  if (terms.length > 0) {
    // `+rowid`: the matches filter a newest-first walk of the time index, which stops at the
    // limit, instead of driving a lookup of every match followed by a sort (a common word
    // matches most of 100,000 prompts).
    where.push(`+rowid IN (SELECT rowid FROM ${HISTORY_TABLE} WHERE ${HISTORY_TABLE} MATCH ?)`);
    // Each word a quoted prefix query; words hold no quotes (letters and digits only).
    params.push(terms.map((term) => `"${term}"*`).join(' AND '));
  }
  const statuses = statusList(query.status);
  if (statuses) {
    if (statuses.length === 0) return undefined;
    where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
    params.push(...statuses);
  }
  if (query.endpointId !== undefined) {
    where.push('endpoint_id = ?');
    params.push(query.endpointId);
  }
  if (query.since !== undefined) {
    where.push('submitted_ms >= ?');
    params.push(Date.parse(query.since));
  }
  if (query.before !== undefined) {
    where.push('submitted_ms < ?');
    params.push(Date.parse(query.before));
  }
  let sql = 'SELECT request_id, record FROM requests';
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY submitted_ms DESC, request_id DESC';
  if (query.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(Math.max(0, Math.floor(query.limit)));
  }
  return { sql, params };
}
