/**
 * Fireblocks-style `before`/`after` cursors for vault listings. A cursor names
 * a row by its key within the workspace (a vault account id; an address's
 * `[change, index]`), never an offset, so rows added or hidden between calls
 * neither repeat nor vanish; it also names the listing and the order it was
 * issued for, and is refused anywhere else.
 */
import { ValidationError } from '../errors.js';

export type SortOrder = 'ASC' | 'DESC';

/** A row's key: non-negative integers compared left to right. */
export type RowKey = readonly number[];

const VERSION = 1;
const MAX_KEY_PART = 0x7fffffff;

export function encodeVaultCursor(listing: string, order: SortOrder, key: RowKey): string {
  return Buffer.from(JSON.stringify([VERSION, listing, order, ...key])).toString('base64url');
}

/** The key a cursor names; 400 when it is not a cursor of this listing and order. */
export function decodeVaultCursor(
  text: string,
  listing: string,
  order: SortOrder,
  keyLength: number,
): RowKey {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const key = Array.isArray(value) ? (value.slice(3) as unknown[]) : [];
  const valid =
    Array.isArray(value) &&
    value[0] === VERSION &&
    value[1] === listing &&
    value[2] === order &&
    key.length === keyLength &&
    key.every(
      (k) => Number.isSafeInteger(k) && (k as number) >= 0 && (k as number) <= MAX_KEY_PART,
    );
  if (!valid) {
    throw new ValidationError(
      'ERR_PAGE_CURSOR',
      'INVALID_PAGE_CURSOR',
      'before/after is not a cursor this listing issued (with this orderBy)',
    );
  }
  return key as number[];
}
