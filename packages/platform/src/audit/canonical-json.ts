/**
 * Deterministic JSON: object keys sorted, no whitespace. PostgreSQL's jsonb
 * reorders keys, so the audit chain hashes this form, which survives a round
 * trip through the database.
 *
 * The input is first normalised by a JSON round trip (`normaliseJson`), so
 * the hash covers exactly what `JSON.stringify` writes to the database and
 * what comes back out of it: `toJSON` applied (a Date becomes its ISO string,
 * a Buffer `{type: 'Buffer', data: [...]}`), `undefined`, functions and
 * symbols dropped from objects and `null` in arrays, -0 written as 0, Map and
 * Set as `{}`. The audit log stores that normalised form, never the original
 * object, so recomputing the hash from the stored row gives the same result.
 * Non-finite numbers (which JSON would silently turn into null) and BigInts
 * are refused with a TypeError.
 */
export function canonicalJson(value: unknown): string {
  return canonicalise(normaliseJson(value));
}

/**
 * `value` as it reads back after `JSON.stringify` and `JSON.parse`: plain
 * objects, arrays, strings, finite numbers, booleans and null. Top-level
 * `undefined` (which JSON.stringify cannot write) becomes null.
 */
export function normaliseJson(value: unknown): unknown {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new TypeError('canonicalJson: non-finite number');
    }
    return v;
  }) as string | undefined;
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

/** Only ever called on the output of normaliseJson. */
function canonicalise(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalise).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalise(v)}`).join(',')}}`;
}
