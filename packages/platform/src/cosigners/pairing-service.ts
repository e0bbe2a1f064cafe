/**
 * Pairing (ARCHITECTURE §5): an admin gets a single-use pairing token for a
 * SIGNER or ADMIN API user; a co-signer exchanges it, registering its identity
 * keys (or, already paired, proving itself with its access token). Every such
 * pairing waits for the workspace Owner's approval — a `COSIGNER_PAIR` request
 * that shows the co-signer's identity-key fingerprint — and the co-signer waits
 * with a poll token (pairing-polls.ts), which hands a new co-signer its first
 * refresh token once approved. No admin alone can mint a paired signer
 * (pairing review H1).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { identityFingerprint, pairingProofMessage } from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { ApiUserRow } from '../api-users/api-user-repository.js';
import type { ApiUserService } from '../api-users/api-user-service.js';
import type { ApprovalService } from '../approvals/approval-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import {
  ConflictError,
  CosignerTokenError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
} from '../errors.js';
import { COSIGNER_PAIR } from './cosigner-approvals.js';
import type { CosignerRepository } from './cosigner-repository.js';
import { parseCosignerIdentity } from './identity-keys.js';
import { isPairable, lockApiUser } from './pairable.js';
import { tokenHash } from './opaque-token.js';
import type { PairingPolls } from './pairing-polls.js';
import { signPairingToken, verifyPairingToken, type PairingTokenClaims } from './pairing-token.js';
import type { PlatformSecrets } from './platform-secrets.js';
import { SANDBOX_COSIGNER_TYPE } from './sandbox-pairing.js';

export const PAIRING_TOKEN_TTL_MS = 10 * 60 * 1000;
const PAIRING_KEY_NAME = 'pairing-token-hs256';
const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;

export interface PairInput {
  pairingToken: string;
  identity: { ed25519: string; x25519: string };
  cosignerName: string;
  version: string;
  cosignerId?: string | undefined;
  proof?: string | undefined;
}

export interface PairOutcome {
  status: 'WAITING_FOR_APPROVAL';
  cosignerId: string;
  apiKeyId: string;
  requestId: string;
  pollToken: string;
  identityFingerprint: string;
}

interface PairingTokenIssuer {
  issued_by_kind: string;
  issued_by_id: string;
}

export class PairingService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cosigners: CosignerRepository,
    private readonly apiUsers: ApiUserService,
    private readonly approvals: ApprovalService,
    private readonly polls: PairingPolls,
    private readonly secrets: PlatformSecrets,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async issuePairingToken(
    actor: Principal,
    apiUserId: string,
  ): Promise<{ pairingToken: string; expiresAt: Date }> {
    if (actor.id === apiUserId.toLowerCase()) {
      throw new ForbiddenError('A pairing token for yourself must be issued by another admin');
    }
    const user = await this.apiUsers.get(actor.workspaceId, apiUserId);
    assertPairable(user);
    if (await this.cosigners.livePairingOf(user.id)) throw alreadyPaired();
    const now = this.clock();
    const claims: PairingTokenClaims = {
      jti: randomUUID(),
      sub: user.id,
      wid: user.workspace_id,
      iat: Math.floor(now.getTime() / 1000),
      exp: Math.floor((now.getTime() + PAIRING_TOKEN_TTL_MS) / 1000),
    };
    const pairingToken = signPairingToken(await this.secrets.get(PAIRING_KEY_NAME), claims);
    const expiresAt = new Date(claims.exp * 1000);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('pairing_tokens')
        .values({
          id: claims.jti,
          token_hash: tokenHash(pairingToken),
          workspace_id: user.workspace_id,
          api_user_id: user.id,
          issued_by_kind: actor.kind,
          issued_by_id: actor.id,
          issued_at: now,
          expires_at: expiresAt,
        })
        .execute();
      await this.audit.appendIn(trx, {
        workspaceId: actor.workspaceId,
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'cosigner.pairing_token_issued',
        subject: user.id,
        details: { pairingTokenId: claims.jti, expiresAt: expiresAt.toISOString() },
      });
    });
    return { pairingToken, expiresAt };
  }

  /**
   * Exchanges a pairing token. `caller` is the co-signer proven by an access
   * token, required when `input.cosignerId` names an existing co-signer.
   */
  async pair(input: PairInput, caller: { cosignerId: string } | undefined): Promise<PairOutcome> {
    // Input first: a typo must not burn the single-use token.
    const identity = parseCosignerIdentity(input.identity);
    const cosignerName = printable(input.cosignerName, 'cosignerName', 100);
    const version = printable(input.version, 'version', 64);
    if (input.cosignerId !== undefined && caller?.cosignerId !== input.cosignerId.toLowerCase()) {
      throw new CosignerTokenError(
        'ERR_ACCESS_TOKEN_INVALID',
        'ACCESS_TOKEN_INVALID',
        'Pairing another API user needs the access token of the co-signer named by cosignerId',
      );
    }
    const nowMs = this.clock().getTime();
    const claims = verifyPairingToken(
      await this.secrets.get(PAIRING_KEY_NAME),
      input.pairingToken,
      Math.floor(nowMs / 1000),
    );
    try {
      return await this.db.transaction().execute(async (trx) => {
        const now = this.clock();
        const issuer = await this.consume(trx, claims, tokenHash(input.pairingToken), now);
        const user = await lockApiUser(trx, claims.sub);
        if (!user || user.workspace_id !== claims.wid) throw new NotFoundError('API user');
        // Checked in the transaction: a bad proof rolls back and leaves the token usable.
        assertPossession(input.proof, claims.jti, identity);
        assertPairable(user);
        if (await this.cosigners.livePairingOf(user.id, trx)) throw alreadyPaired();
        return input.cosignerId === undefined
          ? this.pairNew(trx, claims, issuer, user, { identity, cosignerName, version }, now)
          : this.pairExisting(
              trx,
              claims,
              issuer,
              user,
              input.cosignerId.toLowerCase(),
              identity,
              now,
            );
      });
    } catch (error) {
      // A genuine token that could not be used: worth a trail in its workspace — once per
      // token, so a leaked, used token cannot flood that workspace's audit log (review L2).
      if (
        (error instanceof CosignerTokenError || error instanceof ConflictError) &&
        (await this.firstFailure(claims.jti))
      ) {
        await this.audit.append({
          workspaceId: claims.wid,
          actorKind: 'anonymous',
          actorId: null,
          action: 'cosigner.pairing_failed',
          subject: claims.sub,
          details: { pairingTokenId: claims.jti, reason: error.code },
        });
      }
      throw error;
    }
  }

  /** True for the first failed exchange of this token (marks it). */
  private async firstFailure(jti: string): Promise<boolean> {
    const marked = await this.db
      .updateTable('pairing_tokens')
      .set({ failed_at: this.clock() })
      .where('id', '=', jti)
      .where('failed_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return marked !== undefined;
  }

  /** Marks the token used, atomically: of concurrent exchanges exactly one gets a row. */
  private async consume(
    trx: Transaction<Database>,
    claims: PairingTokenClaims,
    hash: string,
    now: Date,
  ): Promise<PairingTokenIssuer> {
    const used = await trx
      .updateTable('pairing_tokens')
      .set({ used_at: now })
      .where('id', '=', claims.jti)
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['issued_by_kind', 'issued_by_id'])
      .executeTakeFirst();
    if (used) return used;
    const row = await trx
      .selectFrom('pairing_tokens')
      .select(['used_at', 'expires_at'])
      .where('id', '=', claims.jti)
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (row?.used_at) {
      throw new CosignerTokenError(
        'ERR_PAIRING_TOKEN_USED',
        'PAIRING_TOKEN_USED',
        'Pairing token was already used; ask an admin for a new one',
      );
    }
    if (row) {
      throw new CosignerTokenError(
        'ERR_PAIRING_TOKEN_EXPIRED',
        'PAIRING_TOKEN_EXPIRED',
        'Pairing token has expired; ask an admin for a new one',
      );
    }
    throw new CosignerTokenError(
      'ERR_PAIRING_TOKEN_INVALID',
      'PAIRING_TOKEN_INVALID',
      'Pairing token is not valid',
    );
  }

  /** Registers the co-signer; its pairing waits for the Owner like any other (review H1). */
  private async pairNew(
    trx: Transaction<Database>,
    claims: PairingTokenClaims,
    issuer: PairingTokenIssuer,
    user: ApiUserRow,
    details: {
      identity: { ed25519: string; x25519: string };
      cosignerName: string;
      version: string;
    },
    now: Date,
  ): Promise<PairOutcome> {
    if (await this.cosigners.findByIdentity(trx, details.identity.ed25519)) {
      throw new ConflictError(
        'ERR_COSIGNER_ALREADY_REGISTERED',
        'CONFLICT',
        'This identity key cannot be registered; an already paired co-signer pairs with its cosignerId and access token',
      );
    }
    const cosignerId = randomUUID();
    await this.cosigners.insertCosigner(trx, {
      id: cosignerId,
      workspace_id: user.workspace_id,
      name: details.cosignerName,
      type: 'PLAIN',
      mode: 'API',
      identity_ed25519: details.identity.ed25519,
      identity_x25519: details.identity.x25519,
      version: details.version,
    });
    return this.requestPairing(trx, claims, issuer, user, {
      cosignerId,
      cosignerName: details.cosignerName,
      identity: details.identity,
      newCosigner: true,
      now,
    });
  }

  private async pairExisting(
    trx: Transaction<Database>,
    claims: PairingTokenClaims,
    issuer: PairingTokenIssuer,
    user: ApiUserRow,
    cosignerId: string,
    identity: { ed25519: string; x25519: string },
    now: Date,
  ): Promise<PairOutcome> {
    const cosigner = await this.cosigners.findById(cosignerId, trx);
    if (!cosigner || cosigner.archived) throw new NotFoundError('Co-signer');
    // The platform alone pairs the communal test co-signer, and only to sandbox signers.
    if (cosigner.type === SANDBOX_COSIGNER_TYPE)
      throw new ForbiddenError('The communal test co-signer is paired only by the platform');
    if (
      cosigner.identity_ed25519 !== identity.ed25519 ||
      cosigner.identity_x25519 !== identity.x25519
    ) {
      throw new ValidationError(
        'ERR_COSIGNER_IDENTITY_MISMATCH',
        'COSIGNER_IDENTITY_INVALID',
        'identity does not match the identity this co-signer registered',
      );
    }
    return this.requestPairing(trx, claims, issuer, user, {
      cosignerId,
      cosignerName: cosigner.name,
      identity,
      newCosigner: false,
      now,
    });
  }

  /** The waiting pairing, its COSIGNER_PAIR request for the Owner, and the co-signer's poll token. */
  private async requestPairing(
    trx: Transaction<Database>,
    claims: PairingTokenClaims,
    issuer: PairingTokenIssuer,
    user: ApiUserRow,
    c: {
      cosignerId: string;
      cosignerName: string;
      identity: { ed25519: string; x25519: string };
      newCosigner: boolean;
      now: Date;
    },
  ): Promise<PairOutcome> {
    const pairingId = randomUUID();
    await this.cosigners.insertPairing(trx, {
      id: pairingId,
      cosigner_id: c.cosignerId,
      api_user_id: user.id,
      workspace_id: user.workspace_id,
      status: 'WAITING_FOR_APPROVAL',
      approval_request_id: null,
    });
    await trx
      .updateTable('pairing_tokens')
      .set({ used_by_cosigner_id: c.cosignerId })
      .where('id', '=', claims.jti)
      .execute();
    const fingerprint = identityFingerprint(Buffer.from(c.identity.ed25519, 'hex'));
    // Raised by the co-signer on the strength of the issuer's token: filed
    // under the issuer, but never carrying its vote — the Owner decides, having
    // compared the fingerprint with the co-signer's operator (the name is only
    // what the co-signer or an admin chose: review N2).
    const request = await this.approvals.open(trx, {
      workspaceId: user.workspace_id,
      kind: COSIGNER_PAIR,
      subjectId: user.id,
      payload: {
        cosignerId: c.cosignerId,
        apiKeyId: user.id,
        pairingId,
        via: 'pairing_token',
        newCosigner: c.newCosigner,
        cosignerName: c.cosignerName,
        identityFingerprint: fingerprint,
        identityEd25519: c.identity.ed25519,
        identityX25519: c.identity.x25519,
      },
      createdBy: {
        kind: issuer.issued_by_kind as Principal['kind'],
        id: issuer.issued_by_id,
      },
      requiredApprovals: 1,
    });
    await this.cosigners.setApprovalRequest(trx, pairingId, request.id);
    const pollToken = await this.polls.open(trx, pairingId, c.newCosigner, c.now);
    await this.audit.appendIn(trx, {
      workspaceId: user.workspace_id,
      actorKind: 'system',
      actorId: null,
      action: 'cosigner.pair_requested',
      subject: c.cosignerId,
      details: {
        apiUserId: user.id,
        pairingTokenId: claims.jti,
        approvalRequestId: request.id,
        newCosigner: c.newCosigner,
        name: c.cosignerName,
        identityFingerprint: fingerprint,
        identityEd25519: c.identity.ed25519,
        identityX25519: c.identity.x25519,
        at: c.now.toISOString(),
      },
    });
    return {
      status: 'WAITING_FOR_APPROVAL',
      cosignerId: c.cosignerId,
      apiKeyId: user.id,
      requestId: request.id,
      pollToken,
      identityFingerprint: fingerprint,
    };
  }
}

/**
 * The co-signer proves it holds the identity key it registers (pairing review L1): without it
 * anyone holding a pairing token could register someone else's public keys.
 */
function assertPossession(
  proof: string | undefined,
  jti: string,
  identity: { ed25519: string; x25519: string },
): void {
  const valid =
    proof !== undefined &&
    ed25519.verify(
      Buffer.from(proof, 'hex'),
      pairingProofMessage({ jti, ...identity }),
      Buffer.from(identity.ed25519, 'hex'),
      { zip215: false },
    );
  if (!valid) {
    throw new ValidationError(
      'ERR_COSIGNER_PROOF',
      'COSIGNER_IDENTITY_INVALID',
      'proof must be the signature by identity.ed25519 of this pairing (pairingProofMessage)',
    );
  }
}

/** Only a ready SIGNER or ADMIN API user holds key shares, so only it may be paired. */
export function assertPairable(user: ApiUserRow): void {
  if (!isPairable(user)) {
    throw new ConflictError(
      'ERR_API_USER_CANNOT_SIGN',
      'API_USER_CANNOT_SIGN',
      'Only an enabled (READY) API user with role SIGNER or ADMIN can be paired with a co-signer',
    );
  }
}

export function alreadyPaired(): ConflictError {
  return new ConflictError(
    'ERR_API_KEY_ALREADY_PAIRED',
    'API_KEY_ALREADY_PAIRED',
    'This API user is already paired with a co-signer (or a pairing awaits approval)',
  );
}

function printable(value: string, field: string, max: number): string {
  const v = value.trim();
  if (v.length === 0 || v.length > max || !PRINTABLE.test(v)) {
    throw new ValidationError(
      'ERR_COSIGNER_FIELD',
      'INVALID_REQUEST',
      `${field} must be 1 to ${max} printable characters`,
    );
  }
  return v;
}

/** The `version.hash` Fireblocks reports: here, the SHA-256 of the version the co-signer sent. */
export function versionHash(version: string): string {
  return createHash('sha256').update(version, 'utf8').digest('hex');
}
