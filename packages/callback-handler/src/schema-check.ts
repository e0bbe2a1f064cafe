/**
 * Schema validation with one readable error: the first failure, named by its JSON pointer.
 * Messages name fields and constraints, never values (values may be secrets or attacker text).
 * @module
 */
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';

import { CallbackHandlerError, type CallbackHandlerErrorCode } from './errors.js';

/** Returns `value` typed by `schema`, or throws `code` with "<what>: <path>: <problem>". */
export function checkSchema<S extends TSchema>(
  schema: S,
  value: unknown,
  what: string,
  code: CallbackHandlerErrorCode,
): Static<S> {
  if (Value.Check(schema, value)) return value;
  throw new CallbackHandlerError(code, `${what}: ${firstSchemaError(schema, value)}`);
}

/** Longest explanation: field names in it may be the sender's text. */
const MAX_EXPLANATION = 300;

/** "/destinations/0/dstId: must be string", "/: unknown field \"foo\"", … */
export function firstSchemaError(schema: TSchema, value: unknown): string {
  const text = explain(schema, value);
  return text.length > MAX_EXPLANATION ? `${text.slice(0, MAX_EXPLANATION)}…` : text;
}

function explain(schema: TSchema, value: unknown): string {
  const errors = [...Value.Errors(schema, value)];
  // TypeBox reports an unknown property twice (as `false` schema and as additionalProperties);
  // the additionalProperties entry names the field, which is the useful one.
  const useful = errors.filter((e) => e.keyword !== 'boolean');
  const first = useful[0] ?? errors[0];
  if (first === undefined) return 'invalid';
  const path = first.instancePath === '' ? '/' : first.instancePath;
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties' && Array.isArray(params['additionalProperties'])) {
    const names = (params['additionalProperties'] as unknown[])
      .slice(0, 5)
      .map((n) => JSON.stringify(String(n).slice(0, 64)));
    return `${path}: unknown field ${names.join(', ')}`;
  }
  if (first.keyword === 'required' && Array.isArray(params['requiredProperties'])) {
    const names = (params['requiredProperties'] as unknown[]).map((n) => JSON.stringify(n));
    return `${path}: missing field ${names.join(', ')}`;
  }
  if (first.keyword === 'const') {
    // A union of literals fails once per member: list the allowed values instead.
    const allowed = useful
      .filter((e) => e.keyword === 'const' && e.instancePath === first.instancePath)
      .map((e) => JSON.stringify((e.params as Record<string, unknown>)['allowedValue']));
    return `${path}: must be one of ${allowed.join(', ')}`;
  }
  return `${path}: ${first.message}`;
}
