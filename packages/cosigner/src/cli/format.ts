/** Output helpers shared by the commands: aligned key/value lines for people, JSON for tools. */

/** `  label:  value` lines with the values aligned. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `  ${`${label}:`.padEnd(width + 1)} ${value}\n`).join('');
}

/** One JSON document and a newline. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Lowercase hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
