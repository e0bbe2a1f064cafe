/**
 * A message's derivation path as `transaction_messages.derivation_path` stores it: a JSON list of
 * integers (or the list itself, as the driver may parse it).
 */
export function parseStoredPath(value: unknown): number[] {
  const v = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(v) || !v.every((i) => Number.isInteger(i)))
    throw new Error('stored derivation path is not a list of integers');
  return v as number[];
}
