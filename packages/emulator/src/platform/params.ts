import { invalid } from './errors.js';

/**
 * Query-parameter rules shared by the Platform endpoints (fal-platform-api.md §0): repeated or
 * comma-separated id lists of 1–50, `limit` ≥ 1, opaque cursors that encode a page number, and
 * the time-series window (`start`/`end`, `timezone`, `timeframe`, `bound_to_timeframe`).
 */

/** Every value of a parameter, repeated (`?a=1&a=2`) or comma-separated (`?a=1,2`). */
export function listParam(url: URL, name: string): string[] {
  return url.searchParams
    .getAll(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
}

/** An id filter: absent, or 1–50 values; more is a 422 as fal's schema says. */
export function idList(url: URL, name: string, required = false): string[] | undefined {
  const values = listParam(url, name);
  if (values.length === 0) {
    if (required) throw invalid(`${name} is required`);
    return undefined;
  }
  if (values.length > 50) {
    throw invalid(`${name} accepts at most 50 values, got ${values.length}`);
  }
  return [...new Set(values)];
}

/** One string parameter (the last value wins, as most frameworks read it). */
export function stringParam(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name);
  const value = values[values.length - 1];
  return value === undefined || value === '' ? undefined : value;
}

/** A boolean parameter: `true`/`false`/`1`/`0`. */
export function boolParam(url: URL, name: string, fallback: boolean): boolean {
  const value = stringParam(url, name);
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalid(`${name} must be true or false, got "${value}"`);
}

/** A number parameter within [min, max]. */
export function numberParam(url: URL, name: string, min: number, max: number): number | undefined {
  const value = stringParam(url, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw invalid(`${name} must be a number between ${min} and ${max}, got "${value}"`);
  }
  return number;
}

/** One of a fixed set of values. */
export function enumParam<T extends string>(
  url: URL,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = stringParam(url, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** `limit`: an integer ≥ 1 and at most `max`; `fallback` when absent. */
export function limitParam(url: URL, fallback: number, max: number): number {
  const value = stringParam(url, 'limit');
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    // [?] Whether fal refuses or clamps a limit above the maximum is not documented.
    throw invalid(`limit must be an integer between 1 and ${max}, got "${value}"`);
  }
  return limit;
}

/**
 * A page of `items` from the opaque `cursor`: fal's cursors encode a page number (`Mg==` is
 * base64 of "2"), so the first page has none and the next is `base64(page + 1)`.
 */
export function paginate<T>(
  url: URL,
  items: readonly T[],
  limit: number,
): { page: T[]; next_cursor: string | null; has_more: boolean } {
  const cursor = stringParam(url, 'cursor');
  let page = 1;
  if (cursor !== undefined) {
    const decoded = Buffer.from(cursor, 'base64').toString('utf8');
    page = Number(decoded);
    if (!/^\d+$/.test(decoded) || !Number.isSafeInteger(page) || page < 1) {
      throw invalid(`cursor is not valid: "${cursor}"; pass next_cursor from the last page`);
    }
  }
  const start = (page - 1) * limit;
  const slice = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return {
    page: slice,
    next_cursor: hasMore ? Buffer.from(String(page + 1), 'utf8').toString('base64') : null,
    has_more: hasMore,
  };
}

/** `expand` values, repeated or comma-separated. */
export function expandParam(url: URL): Set<string> {
  return new Set(listParam(url, 'expand'));
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** An ISO-8601 instant; anything else is a 422. */
export function timeParam(url: URL, name: string): number | undefined {
  const value = stringParam(url, name);
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time)) {
    throw invalid(`${name} must be an ISO-8601 date-time, got "${value}"`);
  }
  return time;
}

/** `[start, end)` in epoch ms: the given bounds, or the last `defaultMs` before `end`/now. */
export function windowParams(
  url: URL,
  now: number,
  defaultMs = DAY_MS,
  maxMs?: number,
): { start: number; end: number } {
  const end = timeParam(url, 'end') ?? now;
  const start = timeParam(url, 'start') ?? end - defaultMs;
  if (start >= end) throw invalid('start must be before end');
  if (maxMs !== undefined && end - start > maxMs) {
    throw invalid(`the window from start to end may span at most ${maxMs / DAY_MS} days`);
  }
  return { start, end };
}

export type Timeframe = 'minute' | 'hour' | 'day' | 'week' | 'month';

/** fal's automatic timeframe: minute < 2 h, hour < 2 d, day < 64 d, week < 183 d, else month. */
export function autoTimeframe(spanMs: number): Timeframe {
  const hour = 60 * 60 * 1000;
  if (spanMs < 2 * hour) return 'minute';
  if (spanMs < 2 * DAY_MS) return 'hour';
  if (spanMs < 64 * DAY_MS) return 'day';
  if (spanMs < 183 * DAY_MS) return 'week';
  return 'month';
}

/** The time-series parameters of usage and analytics. */
export interface SeriesParams {
  start: number;
  end: number;
  timeframe: Timeframe;
  timezone: string;
}

/** Reads `start`, `end`, `timezone`, `timeframe` and `bound_to_timeframe`. */
export function seriesParams(url: URL, now: number): SeriesParams {
  const window = windowParams(url, now);
  const timezone = stringParam(url, 'timezone') ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw invalid(
      `timezone must be an IANA time zone such as UTC or Europe/Paris, got "${timezone}"`,
    );
  }
  const timeframe =
    enumParam(url, 'timeframe', ['minute', 'hour', 'day', 'week', 'month'] as const) ??
    autoTimeframe(window.end - window.start);
  const bound = boolParam(url, 'bound_to_timeframe', true);
  const start = bound ? bucketStart(window.start, timeframe, timezone) : window.start;
  return { start, end: window.end, timeframe, timezone };
}

/** Wall-clock fields of an instant in a time zone. */
function zoned(time: number, timezone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(time));
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
    second: field('second'),
  };
}

/** The instant of a wall-clock time in a zone (two passes settle DST edges). */
function fromZoned(
  fields: { year: number; month: number; day: number; hour: number; minute: number },
  timezone: string,
): number {
  const naive = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute);
  let guess = naive;
  for (let pass = 0; pass < 2; pass++) {
    const seen = zoned(guess, timezone);
    const seenNaive = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute);
    guess += naive - seenNaive;
  }
  return guess;
}

/** The start of the bucket holding `time` (weeks start on Monday [?]). */
export function bucketStart(time: number, timeframe: Timeframe, timezone: string): number {
  const f = zoned(time, timezone);
  switch (timeframe) {
    case 'minute':
      return fromZoned({ ...f }, timezone);
    case 'hour':
      return fromZoned({ ...f, minute: 0 }, timezone);
    case 'day':
      return fromZoned({ ...f, hour: 0, minute: 0 }, timezone);
    case 'week': {
      const weekday = new Date(Date.UTC(f.year, f.month - 1, f.day)).getUTCDay();
      const back = (weekday + 6) % 7;
      const monday = new Date(Date.UTC(f.year, f.month - 1, f.day - back));
      return fromZoned(
        {
          year: monday.getUTCFullYear(),
          month: monday.getUTCMonth() + 1,
          day: monday.getUTCDate(),
          hour: 0,
          minute: 0,
        },
        timezone,
      );
    }
    case 'month':
      return fromZoned({ ...f, day: 1, hour: 0, minute: 0 }, timezone);
  }
}

/** An ISO-8601 instant. */
export const iso = (time: number): string => new Date(time).toISOString();
