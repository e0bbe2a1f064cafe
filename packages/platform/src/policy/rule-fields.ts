/**
 * The non-amount fields of a rule as predicates over a transaction: initiator, operation, asset,
 * source, destination and destination address type. Each field that is absent (or `"*"`) matches
 * anything; an explicitly empty list matches nothing (publish refuses it as a rule that can
 * never match, and the matcher fails closed if one gets through).
 */
import type {
  PolicyRule,
  PolicySrcOrDestAttributes,
  PolicyTransactionType,
} from '@countersign/protocol';

import type { PolicyAccountRef, PolicyDirectory, PolicyTransaction } from './policy-context.js';

/**
 * Console users in `users`, API users in `services`, either through `usersGroups`. A rule without
 * `operators` matches nobody: "anyone" has to be said (`wildcard: "*"`).
 */
export function initiatorMatches(
  rule: PolicyRule,
  initiator: PolicyTransaction['initiator'],
  directory: PolicyDirectory,
): boolean {
  const operators = rule.operators;
  if (operators === undefined) return false;
  if (operators.wildcard === '*') return true;
  const direct = initiator.kind === 'API_USER' ? operators.services : operators.users;
  if (direct?.includes(initiator.id) === true) return true;
  return (operators.usersGroups ?? []).some(
    (groupId) => directory.groupMembers(groupId)?.includes(initiator.id) === true,
  );
}

/** The operations a rule applies to: its `transactionType` (TRANSFER by default) and the opt-ins. */
export function ruleOperations(rule: PolicyRule): ReadonlySet<PolicyTransactionType> {
  const type = rule.transactionType ?? 'TRANSFER';
  const operations = new Set<PolicyTransactionType>([type]);
  if (rule.applyForApprove === true && type === 'TRANSFER') operations.add('APPROVE');
  if (rule.applyForTypedMessage === true && type === 'CONTRACT_CALL') {
    operations.add('TYPED_MESSAGE');
  }
  return operations;
}

export function assetMatches(rule: PolicyRule, assetId: string): boolean {
  return rule.asset === '*' || rule.asset === assetId;
}

/** `[id, type?, subType?]` against an account: each given position equal or `"*"`. */
export function accountEntryMatches(
  entry: PolicySrcOrDestAttributes,
  account: PolicyAccountRef,
): boolean {
  const [id, type, subType] = entry;
  return (
    (id === '*' || id === account.id) &&
    (type === undefined || type === '*' || type === account.type) &&
    (subType === undefined || subType === '*' || subType === account.subType)
  );
}

/** Whether an entry is `*` in every position it has (matches every account). */
export function isWildcardEntry(entry: PolicySrcOrDestAttributes): boolean {
  return entry.every((part) => part === '*');
}

/**
 * `src` / `dst` against an account. No constraint matches anything, including a transaction with
 * no destination (RAW, TYPED_MESSAGE); a constraint needs an account to match, unless one of its
 * entries is all wildcards.
 */
export function accountsMatch(
  accounts: PolicyRule['src'],
  account: PolicyAccountRef | undefined,
): boolean {
  const entries = accounts?.ids;
  if (entries === undefined) return true;
  return entries.some((entry) =>
    account === undefined ? isWildcardEntry(entry) : accountEntryMatches(entry, account),
  );
}

/**
 * A one-time address is the only non-whitelisted destination: vaults, exchange and fiat accounts
 * and whitelisted external addresses all count as WHITELISTED.
 */
export function destinationAddressType(destination: PolicyAccountRef): 'WHITELISTED' | 'ONE_TIME' {
  return destination.type === 'ONE_TIME_ADDRESS' ? 'ONE_TIME' : 'WHITELISTED';
}

export function dstAddressTypeMatches(
  rule: PolicyRule,
  destination: PolicyAccountRef | undefined,
): boolean {
  const wanted = rule.dstAddressType;
  if (wanted === undefined || wanted === '*') return true;
  return destination !== undefined && destinationAddressType(destination) === wanted;
}

/** Every field except the amount (which may need prices and window totals). */
export function staticFieldsMatch(
  rule: PolicyRule,
  tx: PolicyTransaction,
  directory: PolicyDirectory,
): boolean {
  return (
    // Raw-message constraints are refused at publish (not supported yet): fail closed here.
    rule.rawMessageSigning === undefined &&
    ruleOperations(rule).has(tx.operation) &&
    assetMatches(rule, tx.assetId) &&
    initiatorMatches(rule, tx.initiator, directory) &&
    accountsMatch(rule.src, tx.source) &&
    accountsMatch(rule.dst, tx.destination) &&
    dstAddressTypeMatches(rule, tx.destination)
  );
}

/** Exchange and fiat sources may designate one API user only (their signing is not shareable). */
export function isExchangeOrFiat(type: string | undefined): boolean {
  return type === 'EXCHANGE' || type === 'FIAT_ACCOUNT';
}
