/**
 * Strict decoder of a policy draft (`{ rules: [...] }`, the `/v1/tap` wire shape). Every object is
 * closed: an unknown or deprecated field is refused with its JSON pointer, which names the rule
 * (`/rules/3/operators/groups`). What comes out is a fresh copy with amounts as decimal strings.
 * Semantic checks (users exist, signers are API users, rules can match) are `validatePolicy`'s job.
 */
import {
  POLICY_ACCOUNT_SUB_TYPES,
  POLICY_ACCOUNT_TYPES,
  PolicyRulesSchema,
  type PolicyRule,
  type PolicyRuleInput,
  type PolicyRules,
  type PolicySrcOrDestAttributes,
} from '@countersign/protocol';
import { Value } from 'typebox/value';

import { parseDecimalAmount } from './decimal-amount.js';
import { PolicyDecodeError } from './policy-errors.js';

export function decodePolicyRules(json: unknown): PolicyRules {
  if (!Value.Check(PolicyRulesSchema, json)) {
    const { path, problem } = firstProblem(json);
    throw new PolicyDecodeError(path, problem);
  }
  const rules = (json.rules ?? []).map((rule, index) => decodeRule(rule, `/rules/${index}`));
  return { rules };
}

function decodeRule(input: PolicyRuleInput, path: string): PolicyRule {
  const { amount, amountMax, ...rest } = structuredClone(input);
  const rule: PolicyRule = { ...rest, amount: amountText(amount, `${path}/amount`) };
  if (amountMax !== undefined) rule.amountMax = amountText(amountMax, `${path}/amountMax`);
  rule.src?.ids?.forEach((ids, i) => checkAccountAttributes(ids, `${path}/src/ids/${i}`));
  rule.dst?.ids?.forEach((ids, i) => checkAccountAttributes(ids, `${path}/dst/ids/${i}`));
  return rule;
}

const AMOUNT_PROBLEM = 'must be a non-negative decimal (string or number) without exponent';

/**
 * A JSON number is accepted only when its shortest decimal text is plain (`12.5`, not `1e-7`):
 * that text is what the sender wrote in every case that matters, and no float survives decoding.
 */
function amountText(value: string | number, path: string): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (parseDecimalAmount(text) === undefined) {
    throw new PolicyDecodeError(path, AMOUNT_PROBLEM);
  }
  return text;
}

const ACCOUNT_TYPES: ReadonlySet<string> = new Set(POLICY_ACCOUNT_TYPES);
const ACCOUNT_SUB_TYPES: ReadonlySet<string> = new Set(POLICY_ACCOUNT_SUB_TYPES);

function checkAccountAttributes(ids: PolicySrcOrDestAttributes, path: string): void {
  const [, type, subType] = ids;
  if (type !== undefined && !ACCOUNT_TYPES.has(type)) {
    throw new PolicyDecodeError(
      `${path}/1`,
      `account type must be one of ${listOf(ACCOUNT_TYPES)}`,
    );
  }
  if (subType !== undefined && !ACCOUNT_SUB_TYPES.has(subType)) {
    throw new PolicyDecodeError(
      `${path}/2`,
      `account sub-type must be one of ${listOf(ACCOUNT_SUB_TYPES)}`,
    );
  }
}

function listOf(values: ReadonlySet<string>): string {
  return [...values].join(', ');
}

/** RFC 6901 escaping of a (clipped) field name put into a JSON pointer. */
function pointerToken(name: unknown): string {
  return String(name).slice(0, 64).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Field names may be the sender's text: quoted, clipped, never more than a few. */
function quoted(names: unknown[]): string {
  return names
    .slice(0, 5)
    .map((n) => JSON.stringify(String(n).slice(0, 64)))
    .join(', ');
}

/** The node of the draft schema at a schema pointer (`#/properties/rules/items/...`). */
function schemaAt(pointer: string): Record<string, unknown> | undefined {
  let node: unknown = PolicyRulesSchema;
  for (const token of pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((t) => t !== '')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>) : undefined;
}

/**
 * The first schema failure, said plainly. TypeBox reports an unknown property twice (a `false`
 * schema at the property, and `additionalProperties` at its parent naming it); the parent's entry
 * is kept because it names the field. A failed union of literals becomes the list of allowed values.
 */
function firstProblem(json: unknown): { path: string; problem: string } {
  const errors = [...Value.Errors(PolicyRulesSchema, json)].filter((e) => e.keyword !== 'boolean');
  const first = errors[0];
  if (first === undefined) return { path: '/', problem: 'invalid' };
  const params = first.params as Record<string, unknown>;
  const unknownFields = params['additionalProperties'];
  if (first.keyword === 'additionalProperties' && Array.isArray(unknownFields)) {
    const path = `${first.instancePath}/${pointerToken(unknownFields[0])}`;
    return { path, problem: `unknown field ${quoted(unknownFields)}` };
  }
  const missing = params['requiredProperties'];
  if (first.keyword === 'required' && Array.isArray(missing)) {
    return { path: first.instancePath || '/', problem: `missing field ${quoted(missing)}` };
  }
  if (/\/amount(Max)?$/.test(first.instancePath)) {
    // A string-or-number union fails on both members; neither message alone says what is wanted.
    return { path: first.instancePath, problem: AMOUNT_PROBLEM };
  }
  if (first.keyword === 'const') {
    // A failed union of literals: list the union's members (TypeBox stops reporting after 8).
    const union = schemaAt(first.schemaPath.replace(/\/anyOf\/\d+$/, ''));
    const allowed = (union?.['anyOf'] as Array<{ const?: unknown }> | undefined) ?? [];
    const names = allowed.map((member) => JSON.stringify(member.const));
    return { path: first.instancePath, problem: `must be one of ${names.join(', ')}` };
  }
  return { path: first.instancePath || '/', problem: first.message };
}
