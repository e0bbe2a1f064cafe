/**
 * Cloud co-signers (ARCHITECTURE §1): the operator's two co-signers, slots 1 and 2, holding
 * share 1 and share 2 of every share set. They belong to no workspace. The operator registers
 * each with a single-use cloud pairing token minted on the platform's host
 * (`countersign cloud-cosigner token --slot 1`), which only someone with the platform's
 * database can do; the co-signer exchanges it through the ordinary `POST /cosigner/v1/pair`
 * (`cosigner pair --cloud …`) and gets the same rotating credentials as an API co-signer.
 *
 * The communal test co-signer of sandbox workspaces (sandbox-pairing.ts, docs/sandbox.md) is the
 * operator's too and registers the same way, with a token minted for the `sandbox` seat
 * (`countersign cloud-cosigner token --sandbox`): an API co-signer of no workspace, type SANDBOX.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
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
import { SANDBOX_COSIGNER_TYPE, type SandboxPairing } from './sandbox-pairing.js';

export const CLOUD_PAIRING_TOKEN_TTL_MS = 60 * 60 * 1000;

/** Whether a pairing token is a cloud pairing token (by its prefix) rather than a pairing JWT. */
export function isCloudPairingToken(token: string): boolean {
  return token.startsWith('cscp_');
}

/** What an operator token registers: cloud slot 1 or 2, or the communal test co-signer. */
export type OperatorSeat = 1 | 2 | 'sandbox';

export class CloudCosignerService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cosigners: CosignerRepository,
    private readonly tokens: CosignerTokenService,
    private readonly keygen: KeygenOrchestrator,
    private readonly sandbox: SandboxPairing,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Mints a single-use token that registers the cloud co-signer of `seat` (or the communal one). */
  async issueToken(seat: OperatorSeat): Promise<{ token: string; expiresAt: Date }> {
    if (seat !== 1 && seat !== 2 && seat !== 'sandbox')
      throw new ValidationError('ERR_CLOUD_SLOT', 'INVALID_REQUEST', 'slot must be 1 or 2');
    const sandbox = seat === 'sandbox';
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + CLOUD_PAIRING_TOKEN_TTL_MS);
    const { token, hash } = newOpaqueToken('cloudPairing');
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('cloud_pairing_tokens')
        .values({
          id: randomUUID(),
          token_hash: hash,
          cloud_slot: sandbox ? null : seat,
          sandbox,
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
        details: { slot: seat, expiresAt: expiresAt.toISOString() },
      });
    });
    return { token, expiresAt };
  }

  /**
   * Registers a cloud co-signer. The answer names the co-signer's id as its `apiKeyId`: a cloud
   * co-signer serves every workspace, and its credentials are filed under its own id.
   */
  async register(input: PairInput): Promise<RegisteredOperatorCosigner> {
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
        .returning(['id', 'cloud_slot', 'sandbox'])
        .executeTakeFirst();
      if (!token) throw invalid();
      if (token.sandbox || token.cloud_slot === null)
        return this.registerSandbox(trx, token.id, input, identity);
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
      const { cosignerId, refreshToken } = await this.enroll(trx, token.id, input, identity, {
        cloudSlot: token.cloud_slot,
        type: 'PLAIN',
        mode: 'CLOUD',
        defaultName: `cloud-${token.cloud_slot}`,
        action: 'cosigner.cloud_registered',
        details: { slot: token.cloud_slot },
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

  /**
   * The operator's new co-signer, under an identity key no co-signer has: recorded, the token
   * marked as used by it, its first token family started, audited.
   */
  private async enroll(
    trx: Transaction<Database>,
    tokenId: string,
    input: PairInput,
    identity: { ed25519: string; x25519: string },
    seat: {
      cloudSlot: number | null;
      type: string;
      mode: 'API' | 'CLOUD';
      defaultName: string;
      action: string;
      details: Record<string, unknown>;
    },
  ): Promise<{ cosignerId: string; refreshToken: string }> {
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
      cloud_slot: seat.cloudSlot,
      name: printableOr(input.cosignerName, 100, seat.defaultName),
      type: seat.type,
      mode: seat.mode,
      identity_ed25519: identity.ed25519,
      identity_x25519: identity.x25519,
      version: printableOr(input.version, 64, 'unknown'),
    });
    await trx
      .updateTable('cloud_pairing_tokens')
      .set({ used_by_cosigner_id: cosignerId })
      .where('id', '=', tokenId)
      .execute();
    const { refreshToken } = await this.tokens.startFamily(trx, cosignerId);
    await this.audit.appendIn(trx, {
      workspaceId: null,
      actorKind: 'system',
      actorId: null,
      action: seat.action,
      subject: cosignerId,
      details: { ...seat.details, identityEd25519: identity.ed25519 },
    });
    return { cosignerId, refreshToken };
  }

  /**
   * Registers the communal test co-signer (one per platform), then pairs the sandbox workspaces'
   * signers that were made before it existed.
   */
  private async registerSandbox(
    trx: Transaction<Database>,
    tokenId: string,
    input: PairInput,
    identity: { ed25519: string; x25519: string },
  ): Promise<RegisteredOperatorCosigner> {
    if (await this.sandbox.communalCosigner(trx))
      throw new ConflictError(
        'ERR_SANDBOX_COSIGNER_TAKEN',
        'CONFLICT',
        'The communal test co-signer is already registered',
      );
    const { cosignerId, refreshToken } = await this.enroll(trx, tokenId, input, identity, {
      cloudSlot: null,
      type: SANDBOX_COSIGNER_TYPE,
      mode: 'API',
      defaultName: 'communal-test-cosigner',
      action: 'cosigner.sandbox_registered',
      details: {},
    });
    const wake = await this.sandbox.pairWaiting(trx);
    return {
      outcome: { status: 'PAIRED', cosignerId, apiKeyId: cosignerId, refreshToken },
      wake,
    };
  }
}

interface RegisteredOperatorCosigner {
  outcome: { status: 'PAIRED'; cosignerId: string; apiKeyId: string; refreshToken: string };
  wake: string[];
}

const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

/** A display field as sent when printable and short, else the fallback (never control characters). */
function printableOr(value: string, max: number, fallback: string): string {
  const v = value.trim();
  return v.length > 0 && v.length <= max && PRINTABLE.test(v) ? v : fallback;
}
