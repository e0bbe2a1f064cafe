/**
 * One page of a keyset listing in either direction, for `before`/`after`
 * cursors: `after` continues past a row in the listing's order, `before` goes
 * back from a row. The answer says whether rows exist on each side of the page,
 * so a cursor is handed out only where there is something to fetch.
 */
import { ValidationError } from '../errors.js';
import type { RowKey, SortOrder } from './vault-cursor.js';

/** Rows strictly beyond `key` in direction `op`, sorted `sort`, at most `limit`. */
export type KeysetFetch<R> = (
  bound: { op: '<' | '>'; key: RowKey } | undefined,
  sort: SortOrder,
  limit: number,
) => Promise<R[]>;

export interface KeysetPage<R> {
  rows: R[];
  /** The first row's key, when rows precede the page. */
  before?: RowKey;
  /** The last row's key, when rows follow the page. */
  after?: RowKey;
}

export async function keysetPage<R>(
  request: { order: SortOrder; limit: number; before?: RowKey; after?: RowKey },
  keyOf: (row: R) => RowKey,
  fetch: KeysetFetch<R>,
): Promise<KeysetPage<R>> {
  const { order, limit, before, after } = request;
  if (before !== undefined && after !== undefined) {
    throw new ValidationError(
      'ERR_PAGE_CURSOR',
      'INVALID_REQUEST',
      'give before or after, not both',
    );
  }
  const reverse: SortOrder = order === 'ASC' ? 'DESC' : 'ASC';
  const forwardOp = order === 'ASC' ? '>' : '<';
  const backwardOp = order === 'ASC' ? '<' : '>';
  if (before === undefined) {
    const fetched = await fetch(after && { op: forwardOp, key: after }, order, limit + 1);
    const rows = fetched.slice(0, limit);
    const first = rows[0];
    const last = rows[rows.length - 1];
    const hasBefore =
      first !== undefined &&
      (await fetch({ op: backwardOp, key: keyOf(first) }, reverse, 1)).length > 0;
    return {
      rows,
      ...(hasBefore && first ? { before: keyOf(first) } : {}),
      ...(fetched.length > limit && last ? { after: keyOf(last) } : {}),
    };
  }
  const fetched = await fetch({ op: backwardOp, key: before }, reverse, limit + 1);
  const rows = fetched.slice(0, limit).reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const hasAfter =
    last !== undefined && (await fetch({ op: forwardOp, key: keyOf(last) }, order, 1)).length > 0;
  return {
    rows,
    ...(fetched.length > limit && first ? { before: keyOf(first) } : {}),
    ...(hasAfter && last ? { after: keyOf(last) } : {}),
  };
}
