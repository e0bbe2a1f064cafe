/**
 * Publish-time validation of a decoded policy. Every rule gets a check result (Fireblocks'
 * `PolicyValidation` shape); a rule fails when it names unknown people or vaults, designates
 * anyone but API users, gives an exchange/fiat source more than one signer, has contradictory
 * amounts, can never match, or is shadowed by an earlier rule. The policy publishes only when
 * `status` is SUCCESS.
 */
import type {
  PolicyRule,
  PolicyRuleCheckResult,
  PolicyRuleError,
  PolicyRuleErrorField,
  PolicyRules,
  PolicyValidation,
} from '@countersign/protocol';

import { compareAmounts, decimalAmount } from './decimal-amount.js';
import { isUnconditionalAmount } from './amount-match.js';
import { resolveApprovals } from './approval-requirement.js';
import type { PolicyDirectory, PolicyUserKind } from './policy-context.js';
import { ruleCovers } from './rule-coverage.js';
import { isExchangeOrFiat, isWildcardEntry, ruleOperations } from './rule-fields.js';
import { resolveDesignatedSigners } from './rule-parties.js';

/** Stable numeric codes of `PolicyRuleError.errorCode`, by `errorCodeName`. */
export const POLICY_RULE_ERROR_CODES = {
  UNKNOWN_USER: 1,
  UNKNOWN_GROUP: 2,
  UNKNOWN_VAULT: 3,
  EMPTY_DESIGNATED_SIGNERS: 4,
  EMPTY_GROUP: 5,
  DESIGNATED_SIGNER_NOT_API_USER: 6,
  SINGLE_SIGNER_REQUIRED: 7,
  CONTRADICTORY_AMOUNTS: 8,
  RULE_NEVER_MATCHES: 9,
  RULE_SHADOWED: 10,
  UNSUPPORTED: 11,
  INVALID_APPROVALS: 12,
  DUPLICATE_RULE_ID: 13,
  WRONG_USER_KIND: 14,
  INVALID_FIELD: 15,
} as const;
export type PolicyRuleErrorCodeName = keyof typeof POLICY_RULE_ERROR_CODES;

type Report = (field: PolicyRuleErrorField, code: PolicyRuleErrorCodeName, message: string) => void;

export function validatePolicy(policy: PolicyRules, directory: PolicyDirectory): PolicyValidation {
  const results: PolicyRuleCheckResult[] = policy.rules.map((rule, index) => {
    const errors: PolicyRuleError[] = [];
    const report: Report = (errorField, errorCodeName, message) =>
      errors.push({
        errorField,
        errorCodeName,
        errorCode: POLICY_RULE_ERROR_CODES[errorCodeName],
        errorMessage: `rules[${index}]: ${message}`,
      });
    checkRule(rule, directory, report);
    checkAgainstEarlier(policy.rules, index, report);
    return { index, status: errors.length === 0 ? 'ok' : 'failure', errors };
  });
  const errors = results.reduce((n, r) => n + r.errors.length, 0);
  return {
    status: errors === 0 ? 'SUCCESS' : 'INVALID_CONFIGURATION',
    checkResult: { errors, results },
  };
}

function checkRule(rule: PolicyRule, directory: PolicyDirectory, report: Report): void {
  checkInitiators(rule, directory, report);
  checkAccounts(rule, directory, report);
  checkDestinationless(rule, report);
  checkAmounts(rule, report);
  checkOperations(rule, report);
  checkVerdict(rule, directory, report);
  if (rule.rawMessageSigning !== undefined) {
    report('rawMessageSigning', 'UNSUPPORTED', 'rawMessageSigning is not supported yet');
  }
  const aggregation = rule.amountAggregation;
  if (
    aggregation !== undefined &&
    (aggregation.srcTransferPeers !== undefined ||
      aggregation.dstTransferPeers !== undefined ||
      (aggregation.operators ?? 'PER_SINGLE_MATCH') !== 'PER_SINGLE_MATCH')
  ) {
    report(
      'amountAggregation',
      'UNSUPPORTED',
      'only per-initiator aggregation (operators: PER_SINGLE_MATCH) is supported',
    );
  }
}

const show = (id: string) => JSON.stringify(id.slice(0, 64));

function checkInitiators(rule: PolicyRule, directory: PolicyDirectory, report: Report): void {
  const operators = rule.operators;
  if (operators === undefined) {
    report(
      'operators',
      'RULE_NEVER_MATCHES',
      'no initiator: use operators.wildcard "*" for anyone',
    );
    return;
  }
  const expectKind = (ids: string[] | undefined, kind: PolicyUserKind, list: string) => {
    for (const id of ids ?? []) {
      const actual = directory.userKind(id);
      if (actual === undefined) report('operators', 'UNKNOWN_USER', `unknown user ${show(id)}`);
      else if (actual !== kind) {
        report('operators', 'WRONG_USER_KIND', `operators.${list} lists ${show(id)}, a ${actual}`);
      }
    }
  };
  expectKind(operators.users, 'CONSOLE_USER', 'users');
  expectKind(operators.services, 'API_USER', 'services');
  for (const groupId of operators.usersGroups ?? []) {
    if (directory.groupMembers(groupId) === undefined) {
      report('operators', 'UNKNOWN_GROUP', `unknown user group ${show(groupId)}`);
    }
  }
  const named =
    (operators.users?.length ?? 0) +
    (operators.services?.length ?? 0) +
    (operators.usersGroups?.length ?? 0);
  if (operators.wildcard === undefined && named === 0) {
    report('operators', 'RULE_NEVER_MATCHES', 'operators names no initiator');
  }
}

function checkAccounts(rule: PolicyRule, directory: PolicyDirectory, report: Report): void {
  for (const field of ['src', 'dst'] as const) {
    const entries = rule[field]?.ids;
    if (entries === undefined) continue;
    if (entries.length === 0) report(field, 'RULE_NEVER_MATCHES', `${field}.ids is empty`);
    for (const [id, type] of entries) {
      if (type === 'VAULT' && id !== undefined && id !== '*' && !directory.hasVaultAccount(id)) {
        report(field, 'UNKNOWN_VAULT', `unknown vault account ${show(id)}`);
      }
    }
  }
  const wanted = rule.dstAddressType;
  const dst = rule.dst?.ids;
  if (wanted === undefined || wanted === '*' || dst === undefined || dst.length === 0) return;
  // A one-time address is a destination of type ONE_TIME_ADDRESS and nothing else.
  const canBeOneTime = (e: string[]) =>
    e[1] === undefined || e[1] === '*' || e[1] === 'ONE_TIME_ADDRESS';
  const canBeWhitelisted = (e: string[]) => e[1] !== 'ONE_TIME_ADDRESS';
  const possible = wanted === 'ONE_TIME' ? dst.some(canBeOneTime) : dst.some(canBeWhitelisted);
  if (!possible) {
    report(
      'dstAddressType',
      'RULE_NEVER_MATCHES',
      `dstAddressType ${wanted} contradicts every dst entry`,
    );
  }
}

/** Message signing (RAW, TYPED_MESSAGE) has no destination: a destination condition excludes it. */
const DESTINATIONLESS: ReadonlySet<string> = new Set(['RAW', 'TYPED_MESSAGE']);

function checkDestinationless(rule: PolicyRule, report: Report): void {
  if (![...ruleOperations(rule)].every((op) => DESTINATIONLESS.has(op))) return;
  const dst = rule.dst?.ids;
  if (dst !== undefined && dst.length > 0 && !dst.some(isWildcardEntry)) {
    report('dst', 'RULE_NEVER_MATCHES', 'message signing has no destination to match dst');
  }
  if (rule.dstAddressType === 'WHITELISTED' || rule.dstAddressType === 'ONE_TIME') {
    report(
      'dstAddressType',
      'RULE_NEVER_MATCHES',
      `message signing has no destination to be ${rule.dstAddressType}`,
    );
  }
}

function checkAmounts(rule: PolicyRule, report: Report): void {
  const min = decimalAmount(rule.amount);
  if (rule.amountMax !== undefined && compareAmounts(min, decimalAmount(rule.amountMax)) > 0) {
    report(
      'amount',
      'CONTRADICTORY_AMOUNTS',
      `amount ${rule.amount} is above amountMax ${rule.amountMax}`,
    );
  }
  if (rule.amountScope === 'TIMEFRAME' && rule.periodSec === 0) {
    report('periodSec', 'INVALID_FIELD', 'a TIMEFRAME amount needs periodSec > 0');
  }
  if (rule.amountCurrency === 'NATIVE' && rule.asset === '*' && !isUnconditionalAmount(rule)) {
    // Native units of different assets are not comparable: one limit cannot mean all of them.
    report('amount', 'INVALID_FIELD', 'a NATIVE amount limit needs a specific asset');
  }
}

function checkOperations(rule: PolicyRule, report: Report): void {
  const type = rule.transactionType ?? 'TRANSFER';
  if (rule.applyForApprove === true && type !== 'TRANSFER') {
    report('transactionType', 'INVALID_FIELD', 'applyForApprove needs transactionType TRANSFER');
  }
  if (rule.applyForTypedMessage === true && type !== 'CONTRACT_CALL') {
    report(
      'transactionType',
      'INVALID_FIELD',
      'applyForTypedMessage needs transactionType CONTRACT_CALL',
    );
  }
}

function checkVerdict(rule: PolicyRule, directory: PolicyDirectory, report: Report): void {
  if (rule.action === 'BLOCK' && rule.designatedSigners !== undefined) {
    report('designatedSigners', 'INVALID_FIELD', 'a BLOCK rule has no designated signers');
  }
  if (rule.action !== '2-TIER' && rule.authorizationGroups !== undefined) {
    report('authorizationGroups', 'INVALID_FIELD', 'authorizationGroups needs action 2-TIER');
  }
  if (rule.action === '2-TIER') {
    for (const problem of resolveApprovals(rule, directory).problems) {
      report('authorizationGroups', problem.code, problem.message);
    }
  }
  if (rule.action === 'BLOCK') return;
  const signers = resolveDesignatedSigners(rule, directory);
  for (const problem of signers.problems)
    report('designatedSigners', problem.code, problem.message);
  const exchangeOrFiat = (rule.src?.ids ?? []).some(([, type]) => isExchangeOrFiat(type));
  const groups = rule.designatedSigners?.usersGroups?.length ?? 0;
  const users = rule.designatedSigners?.users?.length ?? 0;
  if (exchangeOrFiat && (groups > 0 || users > 1)) {
    report(
      'designatedSigners',
      'SINGLE_SIGNER_REQUIRED',
      'a rule whose source is an exchange or fiat account may designate a single API user only',
    );
  }
}

function checkAgainstEarlier(rules: PolicyRule[], index: number, report: Report): void {
  const rule = rules[index]!;
  const id = rule.externalDescriptor;
  if (id !== undefined && rules.slice(0, index).some((r) => r.externalDescriptor === id)) {
    report(
      'externalDescriptor',
      'DUPLICATE_RULE_ID',
      `externalDescriptor ${show(id)} is used twice`,
    );
  }
  const covering = rules.slice(0, index).findIndex((earlier) => ruleCovers(earlier, rule));
  if (covering >= 0) {
    report(
      'rule',
      'RULE_SHADOWED',
      `can never match: rules[${covering}] matches every transaction it would`,
    );
  }
}
