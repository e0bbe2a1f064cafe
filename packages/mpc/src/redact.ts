/**
 * Redaction of objects that hold secrets (sessions, protocol instances, key shares), so that a
 * `console.log`, a logger that walks objects, or a `JSON.stringify` never prints a secret scalar
 * (CONVENTIONS.md, "Secrets"). Secret fields are `#private` as well, so even
 * `util.inspect(x, { customInspect: false })` cannot reach them.
 * @module
 */

/** `util.inspect.custom`, without importing `node:util`. */
export const INSPECT = Symbol.for('nodejs.util.inspect.custom');

type InspectFn = (value: unknown, options?: unknown) => string;

/**
 * Renders `name { …summary }` with the caller's inspect options; `summary` must hold public
 * values only.
 */
export function inspectSummary(
  name: string,
  summary: object,
  options: unknown,
  inspect: InspectFn | undefined,
): string {
  const body = inspect === undefined ? JSON.stringify(summary) : inspect(summary, options);
  return `${name} ${body}`;
}

/** Placeholder written in place of a secret. */
export const REDACTED = '[redacted]';
