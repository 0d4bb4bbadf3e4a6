import { ApiError } from '../errors/index.js';

/** One page of a paginated Platform answer. */
export interface PlatformPage<T> {
  readonly items: readonly T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

/**
 * Every item of a paginated answer, page after page, as an async iterator: stop early with
 * `break`. A cursor fal repeats (it would loop forever) ends with API_ERROR.
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<PlatformPage<T>>,
  first?: string,
): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>();
  let cursor = first;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (!page.hasMore || page.nextCursor === null) return;
    if (seen.has(page.nextCursor)) {
      throw new ApiError(
        `fal's Platform API returned the same page cursor twice ("${page.nextCursor.slice(0, 40)}"); falai stopped paging instead of looping.`,
        { status: 200, retryable: false },
      );
    }
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}
