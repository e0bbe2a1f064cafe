/**
 * `cosigner unpair`, the store's part (ARCHITECTURE §3 "Unpair"; issue #5): in one write
 * transaction the pairing ends (its refresh token erased) and this co-signer's shares of every
 * share set of the API key are destroyed — a tombstone row stays, the sealed share and the
 * set's presignatures are gone. The clouds' shares alone cannot sign; with ours gone, nothing
 * here can be used for that API key again, whatever the platform does. Repeatable: an API key
 * already unpaired destroys what is left (nothing, normally) and reports it was.
 * @module
 */
import { CosignerError } from '../errors.js';
import type { CosignerStore } from './cosigner-store.js';
import { withSqliteErrors } from './sqlite-errors.js';

/** What {@link unpairApiKeyLocally} did. */
export interface LocalUnpair {
  readonly alreadyUnpaired: boolean;
  /** Ids of the share sets whose share this call destroyed. */
  readonly destroyedShareSets: readonly string[];
}

export function unpairApiKeyLocally(store: CosignerStore, apiKeyId: string): LocalUnpair {
  const pairing = store.pairedApiKeys.getPairedApiKey(apiKeyId);
  if (pairing === undefined)
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `API key ${apiKeyId} was never paired to this co-signer`,
    });
  // Repository calls nest as savepoints inside this one IMMEDIATE transaction: all or nothing.
  return withSqliteErrors(() =>
    store
      .connection()
      .transaction((): LocalUnpair => {
        const alreadyUnpaired = store.pairedApiKeys.getPairedApiKey(apiKeyId)?.unpairedAt !== null;
        if (!alreadyUnpaired) store.pairedApiKeys.markUnpaired(apiKeyId);
        const destroyedShareSets = store.shareSets.listShareSets({ apiKeyId }).map((s) => s.id);
        for (const id of destroyedShareSets) store.shareSets.destroyShareSet(id);
        return { alreadyUnpaired, destroyedShareSets };
      })
      .immediate(),
  );
}
