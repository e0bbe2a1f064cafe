/**
 * After a restore from backup, every DKLs23 OT setup is treated as destroyed (mpc
 * docs/dkls23-notes.md, "Requirements on the caller", F5; raw-signing review M3).
 *
 * A backup brings the key shares back with their `destroyed` flags as they were when it was
 * taken: a peer banned after the backup would get its setups back, and with them a fresh
 * selective-abort budget on the same Δ. The store cannot know what happened after the backup, so
 * every setup of every restored ECDSA share set is marked destroyed and the share rewritten
 * (new version). Presigning then refuses (`ERR_MPC_OT_SETUP_DESTROYED`) until a refresh builds
 * fresh setups; the shares themselves stay valid for that refresh.
 * @module
 */
import {
  exportDkls23KeyShare,
  importDkls23KeyShare,
  markAllDkls23SetupsDestroyed,
  wipeDkls23KeyShare,
} from '@countersign/mpc';
import type { CosignerStore } from './cosigner-store.js';

/** Marks every OT setup of every live ECDSA share set of `store` destroyed; returns how many sets. */
export function destroyRestoredDkls23Setups(store: CosignerStore): number {
  let count = 0;
  for (const record of store.shareSets.listShareSets()) {
    if (record.algorithm !== 'ECDSA_SECP256K1') continue;
    store.shareSets.updateShare(record.id, (bytes) => {
      // A share that does not parse fails the restore: better no store than one that presigns.
      const keyShare = importDkls23KeyShare(bytes);
      try {
        markAllDkls23SetupsDestroyed(keyShare);
        return exportDkls23KeyShare(keyShare);
      } finally {
        wipeDkls23KeyShare(keyShare);
      }
    });
    count++;
  }
  return count;
}
