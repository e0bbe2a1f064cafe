/**
 * What a co-signer changes about itself from its host (`cosigner unpair`, `cosigner rename`;
 * issue #5), authenticated by its access token like every `/cosigner/v1` call and audited with
 * the co-signer as the actor.
 *
 * - **Unpair.** The co-signer has already stopped serving the API key and destroyed its shares
 *   of the key's share sets before it calls (the customer's share is theirs to destroy; no
 *   approval can bring it back), so the platform records the fact at once: the pairing becomes
 *   UNPAIRED and the API user no longer signs through this co-signer. Calling again is answered
 *   the same (the host retries after a lost answer). Unpairing from the console or the API
 *   (`DELETE /v1/cosigners/…/api_keys/…`) still needs the admin quorum: there the co-signer's
 *   owner has not agreed. In the same transaction the cloud co-signers are told to destroy
 *   their shares of the pairing's share sets (share-set-destruction.ts).
 * - **Rename.** The co-signer's display name, under the rules of `PATCH /v1/cosigners/{id}`.
 */
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { workKey, type RelayNotifier } from '../mpc/relay-notifier.js';
import type { ShareSetDestruction } from '../mpc/share-set-destruction.js';
import { cosignerName } from './cosigner-service.js';

export class CosignerSelfService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly destruction: ShareSetDestruction,
    private readonly notifier: RelayNotifier,
  ) {}

  /** Ends the pairing of `apiKeyId` with the calling co-signer; 404 if it was never paired. */
  async unpair(cosignerId: string, apiKeyId: string): Promise<void> {
    const wake = await this.db.transaction().execute(async (trx): Promise<string[]> => {
      const pairing = await trx
        .selectFrom('cosigner_api_keys')
        .select(['id', 'status', 'workspace_id'])
        .where('cosigner_id', '=', cosignerId)
        .where('api_user_id', '=', apiKeyId)
        .where('status', 'in', ['PAIRED', 'UNPAIRED'])
        .orderBy('seq', 'desc')
        .forUpdate()
        .executeTakeFirst();
      if (!pairing) throw new NotFoundError('Paired API key');
      if (pairing.status === 'UNPAIRED') return [];
      await trx
        .updateTable('cosigner_api_keys')
        .set({ status: 'UNPAIRED', updated_at: this.clock() })
        .where('id', '=', pairing.id)
        .execute();
      const clouds = await this.destruction.pairingEnded(
        trx,
        { workspaceId: pairing.workspace_id, apiUserId: apiKeyId, cosignerId },
        'UNPAIRED_BY_COSIGNER',
      );
      await this.audit.appendIn(trx, {
        workspaceId: pairing.workspace_id,
        actorKind: 'cosigner',
        actorId: cosignerId,
        action: 'cosigner.api_key_unpaired',
        subject: cosignerId,
        details: { apiUserId: apiKeyId, by: 'cosigner' },
      });
      return clouds;
    });
    for (const id of wake) this.notifier.notify(workKey(id));
  }

  /** Renames the calling co-signer; returns the stored name. */
  async rename(cosignerId: string, name: string): Promise<string> {
    const trimmed = cosignerName(name);
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('cosigners')
        .select(['name', 'workspace_id'])
        .where('id', '=', cosignerId)
        .forUpdate()
        .executeTakeFirst();
      if (!before) throw new NotFoundError('Co-signer');
      if (before.name === trimmed) return trimmed;
      await trx
        .updateTable('cosigners')
        .set({ name: trimmed })
        .where('id', '=', cosignerId)
        .execute();
      await this.audit.appendIn(trx, {
        workspaceId: before.workspace_id,
        actorKind: 'cosigner',
        actorId: cosignerId,
        action: 'cosigner.renamed',
        subject: cosignerId,
        details: { from: before.name, to: trimmed, by: 'cosigner' },
      });
      return trimmed;
    });
  }
}
