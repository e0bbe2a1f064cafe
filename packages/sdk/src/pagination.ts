/**
 * Cursor pagination. The Fireblocks API pages in more than one shape, so the
 * shape is a small adapter: where the items are, where the next cursor is,
 * and which query parameters carry the cursor and the page size.
 *
 * - `dataNextPages`:    `{ data: T[], next?: string | null }`, `?pageCursor=&limit=`
 *                       (co-signer API keys, most newer endpoints)
 * - `dataCursorPages`:  `{ data: T[], cursor?: string | null }`, `?cursor=&limit=`
 *                       (audit logs; Fireblocks itself takes no limit there)
 * - `pagingAfterPages`: `{ <items>: T[], paging?: { after?: string } }`, `?after=&limit=`
 *                       (vault accounts paged)
 *
 * Page bodies are validated: a body of the wrong shape is a
 * `CountersignResponseError`, never a silent empty iteration.
 */
import { CountersignResponseError } from './errors.js';

export interface PageShape<T> {
  /** Query parameter that carries the cursor of the page to fetch. */
  readonly cursorParam: string;
  /** Query parameter that carries the page size, when the endpoint has one. */
  readonly limitParam: string | undefined;
  items(body: unknown): T[];
  /** Cursor of the following page; undefined on the last page. */
  nextCursor(body: unknown): string | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | undefined;
  /** The whole response body, for fields beside the items (`total`, `previousUrl`, …). */
  body: unknown;
}

export function dataNextPages<T>(): PageShape<T> {
  return {
    cursorParam: 'pageCursor',
    limitParam: 'limit',
    items: (body) => arrayField<T>(body, 'data'),
    nextCursor: (body) => optionalCursor(objectBody(body)['next'], 'next'),
  };
}

export function dataCursorPages<T>(): PageShape<T> {
  return {
    cursorParam: 'cursor',
    limitParam: 'limit',
    items: (body) => arrayField<T>(body, 'data'),
    nextCursor: (body) => optionalCursor(objectBody(body)['cursor'], 'cursor'),
  };
}

export function pagingAfterPages<T>(itemsField: string): PageShape<T> {
  return {
    cursorParam: 'after',
    limitParam: 'limit',
    items: (body) => arrayField<T>(body, itemsField),
    nextCursor: (body) => {
      const paging = objectBody(body)['paging'];
      if (paging === undefined || paging === null) return undefined;
      if (typeof paging !== 'object' || Array.isArray(paging)) {
        throw new CountersignResponseError('Page field "paging" is not an object');
      }
      return optionalCursor((paging as Record<string, unknown>)['after'], 'paging.after');
    },
  };
}

/** Fetches one page given the query to send; supplied by the client. */
export type PageFetcher = (query: Record<string, string>) => Promise<unknown>;

/**
 * Yields pages until the server stops returning a cursor. A cursor that
 * repeats the previous one is a server bug that would loop forever; it is
 * reported instead.
 */
export async function* iteratePages<T>(
  fetchPage: PageFetcher,
  shape: PageShape<T>,
  query: Record<string, string>,
  pageSize: number | undefined,
): AsyncGenerator<Page<T>, void, undefined> {
  const baseQuery = { ...query };
  if (pageSize !== undefined && shape.limitParam !== undefined) {
    baseQuery[shape.limitParam] = String(pageSize);
  }
  const seen = new Set<string>();
  let cursor = query[shape.cursorParam];
  if (cursor !== undefined) seen.add(cursor);
  for (;;) {
    const pageQuery =
      cursor === undefined ? baseQuery : { ...baseQuery, [shape.cursorParam]: cursor };
    const body = await fetchPage(pageQuery);
    const page: Page<T> = { items: shape.items(body), nextCursor: shape.nextCursor(body), body };
    yield page;
    if (page.nextCursor === undefined) return;
    if (seen.has(page.nextCursor)) {
      throw new CountersignResponseError('The server returned a page cursor it already returned');
    }
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}

export async function* iterateItems<T>(
  pages: AsyncIterable<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  for await (const page of pages) yield* page.items;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CountersignResponseError('Page body is not a JSON object');
  }
  return body as Record<string, unknown>;
}

function arrayField<T>(body: unknown, field: string): T[] {
  const value = objectBody(body)[field];
  if (!Array.isArray(value)) {
    throw new CountersignResponseError(`Page field "${field}" is not an array`);
  }
  return value as T[];
}

/** Absent, null and "" all mean "last page" in the shapes above. */
function optionalCursor(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new CountersignResponseError(`Page field "${field}" is not a string`);
  }
  return value;
}
