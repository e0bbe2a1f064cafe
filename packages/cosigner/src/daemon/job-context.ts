/** What every job of the daemon works with: the platform, the store, this party's keys. */
import type { PartyIdentity } from '../channel/identity.js';
import type { PlatformClient } from '../platform/platform-client.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import type { KeyedSlots } from './slots.js';

export interface JobContext {
  readonly client: PlatformClient;
  readonly accessToken: () => Promise<string>;
  readonly store: CosignerStore;
  readonly identity: PartyIdentity;
  /** The platform's authorization key, pinned at pairing. */
  readonly platformKey: Uint8Array;
  readonly signal: AbortSignal;
  /**
   * `api` (default): ask the API key's Callback Handler before signing (sign-callback.ts);
   * `cloud`: a Cloud Co-signer, which has no handlers.
   */
  readonly mode?: 'api' | 'cloud';
  /**
   * The communal test co-signer of sandbox workspaces (an API co-signer): takes only sandbox
   * workspaces' jobs, and learns its API keys from the platform (sandbox-job.ts).
   */
  readonly sandbox?: boolean;
  /**
   * API mode: deal a later signer's RESHARE for an API key without a Callback Handler, trusting
   * the platform's statement that the Owner approved the pairing (`cosigner start
   * --approve-pairings-without-handler`; pairing-guard.ts). Default false: such a reshare is
   * refused with PAIRING_NOT_GUARDED.
   */
  readonly approvePairingsWithoutHandler?: boolean;
  /** DKLs23 presigning sessions in flight, per share set (cosigner-daemon.ts). */
  readonly presignSlots: KeyedSlots;
}
