/**
 * The matcher: rules are tried in order and the first one whose every field matches decides.
 * No rule matches → BLOCK with sub-status BLOCKED_BY_POLICY. A matched rule that cannot be
 * honoured as published (its designated signers are no longer all API users, or an exchange/fiat
 * source would go to more than one signer) also blocks: failing closed is the only safe reading.
 */
import type { PolicyRule, PolicyRules } from '@countersign/protocol';

import { amountMatches, memoizedPrices } from './amount-match.js';
import { resolveApprovals, type ApprovalRequirement } from './approval-requirement.js';
import type { PolicyEvaluationContext, PolicyTransaction } from './policy-context.js';
import { isExchangeOrFiat, staticFieldsMatch } from './rule-fields.js';
import { resolveDesignatedSigners } from './rule-parties.js';

export type PolicyAction = 'ALLOW' | 'BLOCK' | 'REQUIRE_APPROVAL';

export interface MatchedRule {
  /** Zero-based position in the policy's `rules`. */
  index: number;
  /** The rule's `externalDescriptor`, when it has one. */
  id?: string;
}

export interface PolicyVerdict {
  action: PolicyAction;
  /** `null` when no rule matched. */
  matchedRule: MatchedRule | null;
  /** API user ids whose co-signers may sign; empty when the rule designates none. */
  designatedSigners: string[];
  /** Set when `action` is REQUIRE_APPROVAL. */
  approvalRequirement: ApprovalRequirement | null;
  /** Set when `action` is BLOCK. */
  subStatus?: 'BLOCKED_BY_POLICY';
  /** One line for the audit log. */
  reason: string;
}

export async function evaluatePolicy(
  policy: PolicyRules,
  tx: PolicyTransaction,
  context: PolicyEvaluationContext,
): Promise<PolicyVerdict> {
  const prices = memoizedPrices(context);
  for (const [index, rule] of policy.rules.entries()) {
    if (!staticFieldsMatch(rule, tx, context.directory)) continue;
    if (!(await amountMatches(rule, tx, context, prices))) continue;
    return verdictOf(rule, index, tx, context);
  }
  return {
    action: 'BLOCK',
    matchedRule: null,
    designatedSigners: [],
    approvalRequirement: null,
    subStatus: 'BLOCKED_BY_POLICY',
    reason: 'no policy rule matches',
  };
}

function verdictOf(
  rule: PolicyRule,
  index: number,
  tx: PolicyTransaction,
  context: PolicyEvaluationContext,
): PolicyVerdict {
  const matchedRule: MatchedRule =
    rule.externalDescriptor === undefined ? { index } : { index, id: rule.externalDescriptor };
  const blocked = (reason: string): PolicyVerdict => ({
    action: 'BLOCK',
    matchedRule,
    designatedSigners: [],
    approvalRequirement: null,
    subStatus: 'BLOCKED_BY_POLICY',
    reason: `rules[${index}]: ${reason}`,
  });
  if (rule.action === 'BLOCK') return blocked('the rule blocks');

  const signers = resolveDesignatedSigners(rule, context.directory);
  if (signers.problems.length > 0) {
    return blocked(signers.problems.map((p) => p.message).join('; '));
  }
  if (isExchangeOrFiat(tx.source.type) && signers.userIds.length > 1) {
    return blocked('an exchange or fiat source may designate a single API user only');
  }
  if (rule.action === 'ALLOW') {
    return {
      action: 'ALLOW',
      matchedRule,
      designatedSigners: signers.userIds,
      approvalRequirement: null,
      reason: `rules[${index}]: allowed`,
    };
  }
  const approvals = resolveApprovals(rule, context.directory);
  if (approvals.problems.length > 0) {
    return blocked(approvals.problems.map((p) => p.message).join('; '));
  }
  return {
    action: 'REQUIRE_APPROVAL',
    matchedRule,
    designatedSigners: signers.userIds,
    approvalRequirement: approvals.requirement,
    reason: `rules[${index}]: approvals required`,
  };
}
