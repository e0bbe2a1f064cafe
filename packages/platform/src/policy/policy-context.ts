/**
 * What the policy engine needs from the rest of the platform, as interfaces injected by the
 * caller, so the engine stays pure: who the users, groups and vaults are (the directory), what an
 * asset is worth (the price source), and how much an initiator already moved (window totals).
 */
import type {
  PolicyAccountSubType,
  PolicyAccountType,
  PolicyTransactionType,
} from '@countersign/protocol';

export type PolicyUserKind = 'CONSOLE_USER' | 'API_USER';

/**
 * A snapshot of the workspace's people and accounts. Synchronous on purpose: the caller loads it
 * once per publish or evaluation, so a rule is judged against one consistent view.
 */
export interface PolicyDirectory {
  /** Kind of a user id (console user or API user), `undefined` when unknown. */
  userKind(userId: string): PolicyUserKind | undefined;
  /** Member user ids of a user group, `undefined` when the group is unknown. */
  groupMembers(groupId: string): readonly string[] | undefined;
  /** Whether a vault account id exists. */
  hasVaultAccount(vaultAccountId: string): boolean;
}

export type PriceCurrency = 'USD' | 'EUR';

/** Unit prices, as decimal strings (price of one whole unit of the asset). */
export interface PolicyPriceSource {
  /** `undefined` when the source has no price: the evaluation then fails, it never guesses. */
  unitPrice(assetId: string, currency: PriceCurrency): Promise<string | undefined>;
}

/** An amount an initiator moved in one asset, native units, decimal string. */
export interface AssetTotal {
  assetId: string;
  amount: string;
}

/**
 * The window of a velocity (TIMEFRAME) rule, in epoch milliseconds: a transaction created at `t`
 * is inside when `afterExclusive < t <= upToInclusive`.
 */
export interface VelocityWindow {
  afterExclusive: number;
  upToInclusive: number;
}

/**
 * The store's side of velocity rules: the initiator's totals per asset over the window, across all
 * of the initiator's transactions that count (the store decides which statuses count; blocked,
 * rejected and failed ones should not). The transaction being evaluated is not yet included.
 */
export interface PolicyWindowTotals {
  initiatorTotals(initiatorId: string, window: VelocityWindow): Promise<readonly AssetTotal[]>;
}

export interface PolicyEvaluationContext {
  directory: PolicyDirectory;
  prices: PolicyPriceSource;
  windowTotals: PolicyWindowTotals;
}

/** A source or destination of a transaction as the policy sees it. */
export interface PolicyAccountRef {
  type: Exclude<PolicyAccountType, '*'>;
  /** Vault account id, exchange account id, …; absent for a one-time address. */
  id?: string;
  subType?: Exclude<PolicyAccountSubType, '*'>;
}

/** The facts of a transaction that rules match on. */
export interface PolicyTransaction {
  initiator: { kind: PolicyUserKind; id: string };
  operation: PolicyTransactionType;
  assetId: string;
  /** Native units of `assetId`, decimal string; `"0"` for messages. */
  amount: string;
  source: PolicyAccountRef;
  /** Absent for RAW and TYPED_MESSAGE signing. */
  destination?: PolicyAccountRef;
  /** Creation time, epoch milliseconds: the end of every velocity window. */
  createdAt: number;
}
