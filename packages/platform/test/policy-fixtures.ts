/**
 * Shared fixtures of the policy tests: a small workspace directory, a fixed price table and an
 * in-memory ledger implementing the window-totals interface (it filters by the bounds the engine
 * gives it, so the engine's window arithmetic is what the roll-over tests exercise).
 */
import type { PolicyRuleInput, PolicyRules } from '@countersign/protocol';

import {
  addAmounts,
  decimalAmount,
  formatAmount,
  ZERO_AMOUNT,
} from '../src/policy/decimal-amount.js';
import type {
  AssetTotal,
  PolicyDirectory,
  PolicyEvaluationContext,
  PolicyTransaction,
  PolicyUserKind,
  VelocityWindow,
} from '../src/policy/policy-context.js';
import { decodePolicyRules } from '../src/policy/policy-decoder.js';

const USERS: Record<string, PolicyUserKind> = {
  alice: 'CONSOLE_USER',
  tywin: 'CONSOLE_USER',
  cersei: 'CONSOLE_USER',
  'api-1': 'API_USER',
  'api-2': 'API_USER',
  'api-3': 'API_USER',
  'api-init': 'API_USER',
};

const GROUPS: Record<string, string[]> = {
  'group-1': ['api-1', 'api-2'],
  approvers: ['tywin', 'cersei'],
  mixed: ['alice', 'api-1'],
  empty: [],
};

const VAULTS = new Set(['0', '1', '2']);

export function directory(
  overrides: { users?: Record<string, PolicyUserKind>; groups?: Record<string, string[]> } = {},
): PolicyDirectory {
  const users = { ...USERS, ...overrides.users };
  const groups = { ...GROUPS, ...overrides.groups };
  return {
    userKind: (id) => (Object.hasOwn(users, id) ? users[id] : undefined),
    groupMembers: (id) => (Object.hasOwn(groups, id) ? groups[id] : undefined),
    hasVaultAccount: (id) => VAULTS.has(id),
  };
}

/** USD unit prices; EUR is not priced, so EUR rules exercise the missing-price path. */
export const USD_PRICES: Record<string, string> = { BTC: '50000', ETH: '2000.5', USDC: '1' };

export interface LedgerEntry {
  initiatorId: string;
  assetId: string;
  amount: string;
  createdAt: number;
}

/** The store side of velocity rules, in memory; records every window it was asked about. */
export class Ledger {
  readonly entries: LedgerEntry[] = [];
  readonly windowsAsked: VelocityWindow[] = [];

  add(entry: LedgerEntry): this {
    this.entries.push(entry);
    return this;
  }

  initiatorTotals(initiatorId: string, window: VelocityWindow): Promise<AssetTotal[]> {
    this.windowsAsked.push(window);
    const totals = new Map<string, ReturnType<typeof decimalAmount>>();
    for (const e of this.entries) {
      if (e.initiatorId !== initiatorId) continue;
      if (e.createdAt <= window.afterExclusive || e.createdAt > window.upToInclusive) continue;
      totals.set(
        e.assetId,
        addAmounts(totals.get(e.assetId) ?? ZERO_AMOUNT, decimalAmount(e.amount)),
      );
    }
    return Promise.resolve(
      [...totals].map(([assetId, amount]) => ({ assetId, amount: formatAmount(amount) })),
    );
  }
}

export function context(
  options: { ledger?: Ledger; dir?: PolicyDirectory; prices?: Record<string, string> } = {},
): PolicyEvaluationContext & { pricesAsked: string[] } {
  const prices = options.prices ?? USD_PRICES;
  const pricesAsked: string[] = [];
  const ledger = options.ledger ?? new Ledger();
  return {
    directory: options.dir ?? directory(),
    prices: {
      unitPrice: (assetId, currency) => {
        pricesAsked.push(`${currency}:${assetId}`);
        return Promise.resolve(
          currency === 'USD' && Object.hasOwn(prices, assetId) ? prices[assetId] : undefined,
        );
      },
    },
    windowTotals: { initiatorTotals: (id, window) => ledger.initiatorTotals(id, window) },
    pricesAsked,
  };
}

/** A rule that matches everything (any initiator, TRANSFER, any asset, amount ≥ $0) unless overridden. */
export function rule(overrides: Partial<PolicyRuleInput> = {}): PolicyRuleInput {
  return {
    type: 'TRANSFER',
    action: 'ALLOW',
    asset: '*',
    amountCurrency: 'USD',
    amountScope: 'SINGLE_TX',
    amount: '0',
    periodSec: 0,
    operators: { wildcard: '*' },
    ...overrides,
  };
}

/** A rule without one of its fields, as a JSON body would lack it. */
export function omitField(input: PolicyRuleInput, field: keyof PolicyRuleInput): PolicyRuleInput {
  return Object.fromEntries(
    Object.entries(input).filter(([name]) => name !== field),
  ) as PolicyRuleInput;
}

/** Rules through the real decoder, as a published policy would be. */
export function policy(...rules: PolicyRuleInput[]): PolicyRules {
  return decodePolicyRules({ rules });
}

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

/** Fields to change in {@link tx}; `destination: undefined` removes the destination. */
export type TxOverrides = { [K in keyof PolicyTransaction]?: PolicyTransaction[K] | undefined };

/** A transfer of 1 BTC by API user api-init from vault 0 to a whitelisted external address. */
export function tx(overrides: TxOverrides = {}): PolicyTransaction {
  const merged: TxOverrides = {
    initiator: { kind: 'API_USER', id: 'api-init' },
    operation: 'TRANSFER',
    assetId: 'BTC',
    amount: '1',
    source: { type: 'VAULT', id: '0' },
    destination: { type: 'UNMANAGED', id: 'addr-1', subType: 'EXTERNAL' },
    createdAt: T0,
    ...overrides,
  };
  if (merged.destination === undefined) delete merged.destination;
  return merged as PolicyTransaction;
}
