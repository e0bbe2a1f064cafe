/**
 * Cloud co-signers (ARCHITECTURE §1): the operator's two co-signers, slots 1 and 2, holding
 * share 1 and share 2 of every share set. They belong to no workspace. The operator registers
 * each with a single-use cloud pairing token minted on the platform's host
 * (`countersign cloud-cosigner token --slot 1`), which only someone with the platform's
 * database can do; the co-signer exchanges it through the ordinary `POST /cosigner/v1/pair`
 * (`cosigner pair --cloud …`) and gets the same rotating credentials as an API co-signer.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ConflictError, CosignerTokenError, ValidationError } from '../errors.js';
import type { KeygenOrchestrator } from '../mpc/keygen-orchestrator.js';
import type { CosignerRepository } from './cosigner-repository.js';
import type { CosignerTokenService } from './cosigner-token-service.js';
import { parseCosignerIdentity } from './identity-keys.js';
import { newOpaqueToken, presentedTokenHash } from './opaque-token.js';
import type { PairInput } from './pairing-service.js';

export const CLOUD_PAIRING_TOKEN_TTL_MS = 60 * 60 * 1000;

/** Whether a pairing token is a cloud pairing token (by its prefix) rather than a pairing JWT. */
export function isCloudPairingToken(token: string): boolean {
  return token.startsWith('cscp_');
}

export class CloudCosignerService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cosigners: CosignerRepository,
    private readonly tokens: CosignerTokenService,
    private readonly keygen: KeygenOrchestrator,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Mints a single-use token that registers the cloud co-signer of `slot`. */
  async issueToken(slot: 1 | 2): Promise<{ token: string; expiresAt: Date }> {
    if (slot !== 1 && slot !== 2)
      throw new ValidationError('ERR_CLOUD_SLOT', 'INVALID_REQUEST', 'slot must be 1 or 2');
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + CLOUD_PAIRING_TOKEN_TTL_MS);
    const { token, hash } = newOpaqueToken('cloudPairing');
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('cloud_pairing_tokens')
        .values({
          id: randomUUID(),
          token_hash: hash,
          cloud_slot: slot,
          issued_at: now,
          expires_at: expiresAt,
        })
        .execute();
      await this.audit.appendIn(trx, {
        workspaceId: null,
        actorKind: 'system',
        actorId: null,
        action: 'cosigner.cloud_pairing_token_issued',
        subject: null,
        details: { slot, expiresAt: expiresAt.toISOString() },
      });
    });
    return { token, expiresAt };
  }

  /**
   * Registers a cloud co-signer. The answer names the co-signer's id as its `apiKeyId`: a cloud
   * co-signer serves every workspace, and its credentials are filed under its own id.
   */
  async register(input: PairInput): Promise<{
    outcome: { status: 'PAIRED'; cosignerId: string; apiKeyId: string; refreshToken: string };
    wake: string[];
  }> {
    const identity = parseCosignerIdentity(input.identity);
    const hash = presentedTokenHash('cloudPairing', input.pairingToken);
    const invalid = () =>
      new CosignerTokenError(
        'ERR_PAIRING_TOKEN_INVALID',
        'PAIRING_TOKEN_INVALID',
        'Pairing token is not valid',
      );
    if (!hash || input.cosignerId !== undefined) throw invalid();
    return this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      const token = await trx
        .updateTable('cloud_pairing_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', hash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['id', 'cloud_slot'])
        .executeTakeFirst();
      if (!token) throw invalid();
      const taken = await trx
        .selectFrom('cosigners')
        .select('id')
        .where('cloud_slot', '=', token.cloud_slot)
        .executeTakeFirst();
      if (taken)
        throw new ConflictError(
          'ERR_CLOUD_SLOT_TAKEN',
          'CONFLICT',
          `Cloud slot ${token.cloud_slot} is already registered`,
        );
      if (await this.cosigners.findByIdentity(trx, identity.ed25519))
        throw new ConflictError(
          'ERR_COSIGNER_ALREADY_REGISTERED',
          'CONFLICT',
          'A co-signer with this identity key is already registered',
        );
      const cosignerId = randomUUID();
      await this.cosigners.insertCosigner(trx, {
        id: cosignerId,
        workspace_id: null,
        cloud_slot: token.cloud_slot,
        name: printableOr(input.cosignerName, 100, `cloud-${token.cloud_slot}`),
        type: 'PLAIN',
        mode: 'CLOUD',
        identity_ed25519: identity.ed25519,
        identity_x25519: identity.x25519,
        version: printableOr(input.version, 64, 'unknown'),
      });
      await trx
        .updateTable('cloud_pairing_tokens')
        .set({ used_by_cosigner_id: cosignerId })
        .where('id', '=', token.id)
        .execute();
      const { refreshToken } = await this.tokens.startFamily(trx, cosignerId);
      await this.audit.appendIn(trx, {
        workspaceId: null,
        actorKind: 'system',
        actorId: null,
        action: 'cosigner.cloud_registered',
        subject: cosignerId,
        details: { slot: token.cloud_slot, identityEd25519: identity.ed25519 },
      });
      // Workspaces whose first signer paired before both cloud co-signers existed start now.
      const waiting = await trx
        .selectFrom('cosigner_api_keys')
        .select('workspace_id')
        .distinct()
        .where('status', '=', 'PAIRED')
        .execute();
      const wake = new Set<string>();
      for (const { workspace_id } of waiting)
        for (const id of await this.keygen.ensureForWorkspace(trx, workspace_id)) wake.add(id);
      return {
        outcome: { status: 'PAIRED' as const, cosignerId, apiKeyId: cosignerId, refreshToken },
        wake: [...wake],
      };
    });
  }
}

const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

/** A display field as sent when printable and short, else the fallback (never control characters). */
function printableOr(value: string, max: number, fallback: string): string {
  const v = value.trim();
  return v.length > 0 && v.length <= max && PRINTABLE.test(v) ? v : fallback;
}
