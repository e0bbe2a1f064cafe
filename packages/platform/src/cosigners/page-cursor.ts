/**
 * Opaque, stable page cursors. A cursor names the last row of the previous
 * page by its id (never an offset or a sequence number, which would count
 * other tenants' rows) together with the listing and order it belongs to;
 * the next page starts strictly after that row, so inserts and removals
 * between calls neither repeat nor skip rows.
 */
import type { PageOrder } from '@countersign/protocol';
import { ValidationError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface PageCursor {
  /** Which listing issued it (`cosigners`, `api_keys:<cosignerId>`). */
  listing: string;
  order: PageOrder;
  /** Id of the last row returned. */
  after: string;
}

export function encodePageCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([1, cursor.listing, cursor.order, cursor.after])).toString(
    'base64url',
  );
}

function invalidCursor(): ValidationError {
  return new ValidationError(
    'ERR_PAGE_CURSOR',
    'INVALID_PAGE_CURSOR',
    'pageCursor is not a cursor this listing issued (with this order)',
  );
}

/** The row to continue after; refuses a cursor of another listing or order. */
export function decodePageCursor(text: string, listing: string, order: PageOrder): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 4 ||
    value[0] !== 1 ||
    value[1] !== listing ||
    value[2] !== order ||
    typeof value[3] !== 'string' ||
    !UUID.test(value[3])
  ) {
    throw invalidCursor();
  }
  return value[3];
}
