/**
 * The reference handler's decision: rules applied in a fixed order, the first failing check
 * rejects, and only a request that passes every check of its asset is approved.
 *
 *   1. denylist — any destination on it: REJECT (before anything else, so nothing overrides it)
 *   2. operation — not in `operations` (default TRANSFER only): REJECT
 *   3. business hours — outside every window: `outsideAction` (REJECT by default)
 *   4. asset — no rule for it: `defaultAction`
 *   5. allowlist — a destination not on the asset's allowlist: REJECT
 *   6. amount cap — above `maxAmount`: REJECT
 *   7. velocity — the window's approved total or count would exceed a cap: REJECT
 *   8. APPROVE (the caller records it in the velocity state before answering)
 *
 * The amount judged is the larger of `amountStr` and `requestedAmountStr`.
 * @module
 */
import type { ConfigChangeSignRequest, TxSignRequest } from '@countersign/protocol';

import type { CallbackDecision } from '../decision.js';
import { withinBusinessHours } from './business-hours.js';
import {
  addDecimal,
  compareDecimal,
  formatDecimal,
  parseDecimal,
  type Decimal,
} from './decimal.js';
import type { DestinationRef, Rules } from './rules-file.js';
import type { VelocityStore } from './velocity-store.js';

export interface RuleDecision {
  decision: CallbackDecision;
  /** Which rule decided, as a JSON pointer into the rules file (for the audit log). */
  rule: string;
  /** Set on APPROVE: what to add to the velocity state. */
  approvedAmount?: { asset: string; amount: Decimal };
}

/** One destination of a request, as the rules see it. */
interface Destination {
  addresses: string[];
  type: string;
  id: string;
}

export function decideTxSignRequest(
  rules: Rules,
  request: TxSignRequest,
  now: Date,
  velocity: VelocityStore,
): RuleDecision {
  const source = rules.source;
  const rejectBy = (rule: string, reason: string): RuleDecision => ({
    decision: { action: 'REJECT', rejectionReason: reason },
    rule,
  });
  const destinations = destinationsOf(request);

  const denied = (source.denylist ?? []).findIndex((ref) =>
    destinations.some((d) => matches(ref, d, true)),
  );
  if (denied >= 0) return rejectBy(`/denylist/${denied}`, 'destination is on the denylist');

  if (!rules.operations.includes(request.operation)) {
    return rejectBy('/operations', `operation ${request.operation} is not allowed`);
  }

  const hours = hoursDecision(rules, now);
  if (hours !== undefined) return hours;

  const assetRule = Object.hasOwn(source.assets, request.asset)
    ? source.assets[request.asset]
    : undefined;
  if (assetRule === undefined) {
    return source.defaultAction === 'APPROVE'
      ? { decision: { action: 'APPROVE' }, rule: '/defaultAction' }
      : rejectBy('/defaultAction', `no rule for asset ${request.asset}`);
  }
  const at = `/assets/${request.asset}`;

  if (assetRule.allowlist !== 'ANY') {
    const allowlist = assetRule.allowlist;
    const stranger = destinations.find((d) => !allowlist.some((ref) => matches(ref, d, false)));
    if (stranger !== undefined) {
      return rejectBy(`${at}/allowlist`, `destination is not on the ${request.asset} allowlist`);
    }
  }

  const amount = requestAmount(request);
  const cap = rules.maxAmounts.get(request.asset);
  if (cap !== undefined && compareDecimal(amount, cap) > 0) {
    return rejectBy(
      `${at}/maxAmount`,
      `amount ${formatDecimal(amount)} ${request.asset} is above the cap of ${formatDecimal(cap)}`,
    );
  }

  for (const v of rules.velocityCaps.get(request.asset) ?? []) {
    const totals = velocity.totals(request.asset, now.getTime() - v.windowMs, request.requestId);
    const rule = `${at}/velocity/${v.index}`;
    const window = `${v.windowMs / 1000} s`;
    if (v.maxCount !== undefined && totals.count + 1 > v.maxCount) {
      return rejectBy(rule, `more than ${v.maxCount} ${request.asset} approvals in ${window}`);
    }
    if (
      v.maxAmount !== undefined &&
      compareDecimal(addDecimal(totals.amount, amount), v.maxAmount) > 0
    ) {
      return rejectBy(
        rule,
        `${request.asset} approved in ${window} would exceed ${formatDecimal(v.maxAmount)}`,
      );
    }
  }
  return {
    decision: { action: 'APPROVE' },
    rule: at,
    approvedAmount: { asset: request.asset, amount },
  };
}

/** Configuration changes: approved only if their type is listed (and within business hours). */
export function decideConfigChange(
  rules: Rules,
  request: ConfigChangeSignRequest,
  now: Date,
): RuleDecision {
  const hours = hoursDecision(rules, now);
  if (hours !== undefined) return hours;
  const approveTypes = rules.source.configChanges?.approveTypes ?? [];
  return approveTypes.includes(request.type)
    ? { decision: { action: 'APPROVE' }, rule: '/configChanges/approveTypes' }
    : {
        decision: {
          action: 'REJECT',
          rejectionReason: `configuration change ${request.type} is not approved by rule`,
        },
        rule: '/configChanges',
      };
}

function hoursDecision(rules: Rules, now: Date): RuleDecision | undefined {
  const hours = rules.source.businessHours;
  if (hours === undefined || withinBusinessHours(hours, now)) return undefined;
  const action = hours.outsideAction ?? 'REJECT';
  return {
    decision:
      action === 'RETRY'
        ? { action: 'RETRY' }
        : { action: 'REJECT', rejectionReason: 'outside business hours' },
    rule: '/businessHours',
  };
}

function requestAmount(request: TxSignRequest): Decimal {
  // Both parsed by the protocol schema's pattern; the larger one is judged.
  const a = parseDecimal(request.amountStr)!;
  const b = parseDecimal(request.requestedAmountStr)!;
  return compareDecimal(a, b) >= 0 ? a : b;
}

/** The top-level destination and every entry of `destinations[]`. */
function destinationsOf(request: TxSignRequest): Destination[] {
  const nonEmpty = (...values: (string | undefined)[]) =>
    values.filter((v): v is string => v !== undefined && v !== '');
  return [
    { addresses: nonEmpty(request.destAddress), type: request.destType, id: request.destId },
    ...request.destinations.map((d) => ({
      addresses: nonEmpty(d.dstAddress, d.displayDstAddress),
      type: d.dstType,
      id: d.dstId,
    })),
  ];
}

/**
 * Does `ref` match destination `d`? A type/id entry matches on both; an address entry must match
 * every address the destination shows (a displayed address may not differ from the real one).
 * Denylist matching ignores case everywhere (over-matching is safe there); allowlist matching
 * ignores case only for 0x-hex (EVM) addresses, since base58 addresses are case-sensitive.
 */
function matches(ref: DestinationRef, d: Destination, denylist: boolean): boolean {
  if ('type' in ref) return ref.type === d.type && ref.id !== '' && ref.id === d.id;
  if (d.addresses.length === 0) return false;
  const same = (a: string) =>
    denylist || isHexAddress(a) ? a.toLowerCase() === ref.address.toLowerCase() : a === ref.address;
  return denylist ? d.addresses.some(same) : d.addresses.every(same);
}

function isHexAddress(address: string): boolean {
  return /^0x[0-9a-fA-F]+$/.test(address);
}
