/**
 * Sandbox workspaces' communal test co-signer (docs/sandbox.md): one API co-signer of type
 * SANDBOX, run by the operator beside the Cloud Co-signers, serving every sandbox workspace and
 * nothing else. A SIGNER or ADMIN API user of a sandbox workspace is paired to it as soon as it
 * is ready — no pairing token, no Owner approval: that is what a sandbox is for — and then gets
 * its share sets exactly as any paired signer (KEYGEN for the first, RESHARE for later ones).
 *
 * The operator runs cloud-1, cloud-2 and this co-signer, so it holds every share of a sandbox
 * workspace's keys: that is acceptable only because a sandbox is for test networks, and it is
 * why nothing here ever pairs an API user of a workspace that is not a sandbox (the flag is set
 * at creation and never changes: migration 0010).
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Database } from '../db/schema.js';
import { LIVE_PAIRING, type CosignerRepository, type CosignerRow } from './cosigner-repository.js';
import { isPairable, lockApiUser, PAIRABLE_ROLES } from './pairable.js';

/** The `type` of the communal test co-signer, as the co-signer management API reports it. */
export const SANDBOX_COSIGNER_TYPE = 'SANDBOX';

/** The co-signers to wake once the caller's transaction commits. */
export type EnsureShareSets = (
  trx: Transaction<Database>,
  workspaceId: string,
) => Promise<string[]>;

export class SandboxPairing {
  constructor(
    private readonly cosigners: CosignerRepository,
    private readonly audit: AuditLog,
    private readonly ensureShareSets: EnsureShareSets,
  ) {}

  /** The communal test co-signer, if the operator registered one and it is not archived. */
  async communalCosigner(trx: Transaction<Database>): Promise<CosignerRow | undefined> {
    return trx
      .selectFrom('cosigners')
      .selectAll()
      .where('type', '=', SANDBOX_COSIGNER_TYPE)
      .where('archived', '=', false)
      .executeTakeFirst();
  }

  /**
   * Pairs a ready API user of a sandbox workspace with the communal co-signer, audited, and starts
   * its share sets. Does nothing for any other workspace, a role that holds no shares, an API user
   * already paired, or while no communal co-signer is registered (its registration pairs the
   * waiting ones). The pairing names the API user's creation approval: in a sandbox, the admins'
   * decision to create a signer is the decision to pair it.
   */
  async pairSigner(trx: Transaction<Database>, apiUserId: string): Promise<string[]> {
    const user = await lockApiUser(trx, apiUserId);
    if (!user || !isPairable(user)) return [];
    const workspace = await trx
      .selectFrom('workspaces')
      .select('sandbox')
      .where('id', '=', user.workspace_id)
      .executeTakeFirstOrThrow();
    if (!workspace.sandbox) return [];
    const communal = await this.communalCosigner(trx);
    if (!communal) return [];
    if (await this.cosigners.livePairingOf(user.id, trx)) return [];
    await this.cosigners.insertPairing(trx, {
      id: randomUUID(),
      cosigner_id: communal.id,
      api_user_id: user.id,
      workspace_id: user.workspace_id,
      status: 'PAIRED',
      approval_request_id: user.approval_request_id,
    });
    await this.audit.appendIn(trx, {
      workspaceId: user.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'cosigner.api_key_paired',
      subject: communal.id,
      details: {
        apiUserId: user.id,
        approvalRequestId: user.approval_request_id,
        sandbox: true,
      },
    });
    return this.ensureShareSets(trx, user.workspace_id);
  }

  /** Pairs every ready signer of every sandbox workspace still without a co-signer. */
  async pairWaiting(trx: Transaction<Database>): Promise<string[]> {
    const waiting = await trx
      .selectFrom('api_users as u')
      .innerJoin('workspaces as w', 'w.id', 'u.workspace_id')
      .select('u.id')
      .where('w.sandbox', '=', true)
      .where('u.status', '=', 'READY')
      .where('u.enabled', '=', true)
      .where('u.role', 'in', PAIRABLE_ROLES)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('cosigner_api_keys as k')
              .select('k.id')
              .whereRef('k.api_user_id', '=', 'u.id')
              .where('k.status', 'in', LIVE_PAIRING),
          ),
        ),
      )
      .orderBy('u.created_at')
      .execute();
    const wake = new Set<string>();
    for (const { id } of waiting) for (const c of await this.pairSigner(trx, id)) wake.add(c);
    return [...wake];
  }
}
