/**
 * Shadowing, the provable part: `ruleCovers(earlier, later)` is true only when every transaction
 * the later rule could match is certainly matched by the earlier one, field by field, whatever the
 * directory says (group membership is compared by group id, never expanded). Since the first match
 * wins, a covered rule can never decide anything. Partial overlaps and covers that hold only
 * through several earlier rules together are not detected (see docs/policy.md).
 */
import type { PolicyRule, PolicySrcOrDestAttributes } from '@countersign/protocol';

import { compareAmounts, decimalAmount } from './decimal-amount.js';
import { isUnconditionalAmount } from './amount-match.js';
import { ruleOperations } from './rule-fields.js';

const subset = (inner: string[] | undefined, outer: string[] | undefined) =>
  (inner ?? []).every((id) => outer?.includes(id) === true);

function initiatorsCover(earlier: PolicyRule, later: PolicyRule): boolean {
  const e = earlier.operators;
  const l = later.operators;
  if (e === undefined) return false;
  if (e.wildcard === '*') return true;
  if (l === undefined || l.wildcard === '*') return false;
  return (
    subset(l.users, e.users) &&
    subset(l.services, e.services) &&
    subset(l.usersGroups, e.usersGroups)
  );
}

/** Each position of the earlier entry is a wildcard or the same fixed value as the later one. */
function entryCovers(e: PolicySrcOrDestAttributes, l: PolicySrcOrDestAttributes): boolean {
  return [0, 1, 2].every((i) => {
    const part = e[i];
    return part === undefined || part === '*' || part === l[i];
  });
}

function accountsCover(earlier: PolicyRule['src'], later: PolicyRule['src']): boolean {
  const e = earlier?.ids;
  if (e === undefined) return true;
  const l = later?.ids;
  return l !== undefined && l.every((entry) => e.some((covering) => entryCovers(covering, entry)));
}

function amountsCover(earlier: PolicyRule, later: PolicyRule): boolean {
  if (isUnconditionalAmount(earlier)) return true;
  if (
    earlier.amountCurrency !== later.amountCurrency ||
    earlier.amountScope !== later.amountScope ||
    (earlier.amountScope === 'TIMEFRAME' && earlier.periodSec !== later.periodSec)
  ) {
    return false;
  }
  if (compareAmounts(decimalAmount(earlier.amount), decimalAmount(later.amount)) > 0) return false;
  if (earlier.amountMax === undefined) return true;
  return (
    later.amountMax !== undefined &&
    compareAmounts(decimalAmount(later.amountMax), decimalAmount(earlier.amountMax)) <= 0
  );
}

export function ruleCovers(earlier: PolicyRule, later: PolicyRule): boolean {
  const earlierOperations = ruleOperations(earlier);
  return (
    earlier.rawMessageSigning === undefined &&
    [...ruleOperations(later)].every((op) => earlierOperations.has(op)) &&
    (earlier.asset === '*' || earlier.asset === later.asset) &&
    initiatorsCover(earlier, later) &&
    accountsCover(earlier.src, later.src) &&
    accountsCover(earlier.dst, later.dst) &&
    (earlier.dstAddressType === undefined ||
      earlier.dstAddressType === '*' ||
      earlier.dstAddressType === later.dstAddressType) &&
    amountsCover(earlier, later)
  );
}
