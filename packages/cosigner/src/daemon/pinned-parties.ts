/**
 * A later roster of a share set against the parties pinned when it was stored (pool review M2).
 *
 * verifyRoster proves that the platform signed the roster and that I sit in it exactly once; who
 * sits in the other seats is the platform's word. A share set's parties are fixed when it is
 * made, so the store keeps, with the share, the keys the verified roster seated at each index
 * (KEYGEN: every party; RESHARE: the receivers). A later roster of the share set must seat those
 * same keys at those same indices, or a platform could put its own identity in an honest peer's
 * seat and sit in the middle of every channel of the session. Share sets stored before store
 * schema 4 have no pin and are not checked: for them the roster is trusted as before.
 * @module
 */
import type { RosterParty } from '../channel/roster.js';
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';

/**
 * Refuses `parties` (of a roster that works with share set `shareSetId`) unless each one sits at
 * an index pinned for the share set, with the identity and agreement keys pinned there. The keys
 * are public: the comparison need not be constant-time, it just uses the channel's helper.
 */
export function assertPinnedParties(
  store: CosignerStore,
  shareSetId: string,
  parties: readonly RosterParty[],
): void {
  const pinned = store.shareSets.pinnedParties(shareSetId);
  if (pinned === undefined) return;
  const byIndex = new Map(pinned.map((p) => [p.index, p]));
  for (const party of parties) {
    const pin = byIndex.get(party.index);
    if (pin === undefined)
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
        detail: `roster: party ${party.index} holds no share of share set ${shareSetId}`,
      });
    if (
      !constantTimeEqual(party.identityKey, pin.identityKey) ||
      !constantTimeEqual(party.agreementKey, pin.agreementKey)
    )
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
        detail: `roster: party ${party.index} is not seated with the keys pinned for share set ${shareSetId}`,
      });
  }
}
