/**
 * Who a rule names: its designated signers and its approvers, resolved through the directory to
 * user ids. Publish reports every problem found; the matcher re-resolves at evaluation time (the
 * directory may have changed since publish) and blocks on any problem rather than send a
 * transaction to someone who is not an API user.
 */
import type { PolicyRule } from '@countersign/protocol';

import type { PolicyDirectory } from './policy-context.js';

export interface PartyProblem {
  code:
    | 'UNKNOWN_USER'
    | 'UNKNOWN_GROUP'
    | 'EMPTY_GROUP'
    | 'EMPTY_DESIGNATED_SIGNERS'
    | 'DESIGNATED_SIGNER_NOT_API_USER';
  message: string;
}

export interface ResolvedParties {
  /** Distinct user ids, in the order the rule names them (groups expanded in place). */
  userIds: string[];
  problems: PartyProblem[];
}

interface PartyList {
  users?: string[] | undefined;
  usersGroups?: string[] | undefined;
}

const show = (id: string) => JSON.stringify(id.slice(0, 64));

/** Users and group members of one list; unknown ids and empty groups are problems. */
export function resolveParties(list: PartyList, directory: PolicyDirectory): ResolvedParties {
  const userIds = new Set<string>();
  const problems: PartyProblem[] = [];
  for (const userId of list.users ?? []) {
    if (directory.userKind(userId) === undefined) {
      problems.push({ code: 'UNKNOWN_USER', message: `unknown user ${show(userId)}` });
    } else userIds.add(userId);
  }
  for (const groupId of list.usersGroups ?? []) {
    const members = directory.groupMembers(groupId);
    if (members === undefined) {
      problems.push({ code: 'UNKNOWN_GROUP', message: `unknown user group ${show(groupId)}` });
    } else if (members.length === 0) {
      problems.push({ code: 'EMPTY_GROUP', message: `user group ${show(groupId)} has no members` });
    } else members.forEach((id) => userIds.add(id));
  }
  return { userIds: [...userIds], problems };
}

/**
 * Designated signers must all be API users (their co-signers sign). A rule without the field has
 * none: the verdict then names no signer and the caller applies its default.
 */
export function resolveDesignatedSigners(
  rule: PolicyRule,
  directory: PolicyDirectory,
): ResolvedParties {
  const list = rule.designatedSigners;
  if (list === undefined) return { userIds: [], problems: [] };
  const resolved = resolveParties(list, directory);
  const consoleUsers = resolved.userIds.filter((id) => directory.userKind(id) !== 'API_USER');
  if (consoleUsers.length > 0) {
    const mixed = consoleUsers.length < resolved.userIds.length;
    resolved.problems.push({
      code: 'DESIGNATED_SIGNER_NOT_API_USER',
      message:
        `designated signers must all be API users; ${consoleUsers.map(show).join(', ')} ` +
        (mixed ? 'are console users mixed with API users' : 'are console users'),
    });
  }
  if (resolved.userIds.length === 0 && resolved.problems.length === 0) {
    resolved.problems.push({
      code: 'EMPTY_DESIGNATED_SIGNERS',
      message: 'designatedSigners names no API user',
    });
  }
  return {
    userIds: resolved.userIds.filter((id) => directory.userKind(id) === 'API_USER'),
    problems: resolved.problems,
  };
}
