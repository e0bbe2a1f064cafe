/**
 * The approvals a `2-TIER` rule asks for: groups of approvers, each with a threshold, combined
 * with AND (every group) or OR (any group). Defaults when a field is absent are the strict ones:
 * AND, threshold 1, the initiator does not approve their own transaction.
 */
import type { PolicyRule } from '@countersign/protocol';

import type { PolicyDirectory } from './policy-context.js';
import { resolveParties, type PartyProblem } from './rule-parties.js';

export interface ApprovalGroupRequirement {
  /** User ids (console or API users) who may approve for this group. */
  approvers: string[];
  /** Approvals needed from this group. */
  threshold: number;
}

export interface ApprovalRequirement {
  logic: 'AND' | 'OR';
  allowInitiatorAsApprover: boolean;
  groups: ApprovalGroupRequirement[];
}

export interface ResolvedApprovals {
  requirement: ApprovalRequirement;
  /** Unknown users or groups, empty groups, unreachable thresholds, no group at all. */
  problems: Array<PartyProblem | { code: 'INVALID_APPROVALS'; message: string }>;
}

export function resolveApprovals(rule: PolicyRule, directory: PolicyDirectory): ResolvedApprovals {
  const config = rule.authorizationGroups;
  const problems: ResolvedApprovals['problems'] = [];
  const groups = (config?.groups ?? []).map((group, i) => {
    const parties = resolveParties(group, directory);
    parties.problems.forEach((p) => problems.push({ ...p, message: `groups[${i}]: ${p.message}` }));
    const threshold = group.th ?? 1;
    if (threshold < 1 || threshold > parties.userIds.length) {
      problems.push({
        code: 'INVALID_APPROVALS',
        message:
          `groups[${i}]: threshold ${threshold} cannot be met by its ` +
          `${parties.userIds.length} approver(s)`,
      });
    }
    return { approvers: parties.userIds, threshold };
  });
  if (groups.length === 0) {
    problems.push({ code: 'INVALID_APPROVALS', message: 'a 2-TIER rule needs approver groups' });
  }
  return {
    requirement: {
      logic: config?.logic ?? 'AND',
      allowInitiatorAsApprover: config?.allowOperatorAsAuthorizer ?? false,
      groups,
    },
    problems,
  };
}
