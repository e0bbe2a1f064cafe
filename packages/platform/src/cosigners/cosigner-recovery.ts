/**
 * Recovery after a lost token answer (pairing review H2). Refresh tokens rotate strictly: a
 * co-signer that lost a rotation's answer (timeout, proxy error, crash before its store write,
 * a restored backup) presents a spent token, and the platform revokes its family. Its long-term
 * Ed25519 identity key — registered at pairing, never sent anywhere — still proves it is that
 * co-signer: a recovery request it signs, bound to its co-signer id, this platform's
 * authorization key, a fresh nonce and an expiry at most 5 minutes away, accepted once, gets it
 * a new token family. Every other family of the co-signer is revoked (whoever held those tokens
 * is cut off), and the recovery is audited.
 *
 * Only a co-signer with an approved pairing (or a Cloud Co-signer) recovers: a registration
 * the Owner has not approved must not yield credentials by this door (review H1).
 */
import {
  RECOVERY_MAX_LIFETIME_MS,
  recoveryMessage,
  type RecoverRequest,
} from '@countersign/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { CosignerTokenError } from '../errors.js';
import type { PlatformAuthorizationKey } from '../mpc/authorization-key.js';
import type { CosignerRepository } from './cosigner-repository.js';
import type { CosignerTokenService, IssuedRefreshToken } from './cosigner-token-service.js';
import { SANDBOX_COSIGNER_TYPE } from './sandbox-pairing.js';

/** How far in the future a request may claim to have been made (clock skew). */
const CLOCK_SKEW_MS = 60_000;

export class CosignerRecovery {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cosigners: CosignerRepository,
    private readonly tokens: CosignerTokenService,
    private readonly authorizationKey: PlatformAuthorizationKey,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async recover(request: RecoverRequest): Promise<IssuedRefreshToken> {
    const now = this.clock();
    if (
      request.expiresAt <= now.getTime() ||
      request.expiresAt <= request.issuedAt ||
      request.expiresAt - request.issuedAt > RECOVERY_MAX_LIFETIME_MS ||
      request.issuedAt > now.getTime() + CLOCK_SKEW_MS
    ) {
      throw refused('Recovery request expired or not fresh; sign a new one');
    }
    const cosignerId = request.cosignerId.toLowerCase();
    const cosigner = await this.cosigners.findById(cosignerId);
    const message = recoveryMessage({
      ...request,
      cosignerId,
      platformKey: (await this.authorizationKey.publicKey()).toString('hex'),
    });
    // Strict RFC 8032 verification (no ZIP-215 leniency); an unknown co-signer reads the same as
    // a bad signature, so the answer says nothing about other registrations.
    if (
      !cosigner ||
      !ed25519.verify(
        Buffer.from(request.signature, 'hex'),
        message,
        Buffer.from(cosigner.identity_ed25519, 'hex'),
        { zip215: false },
      )
    ) {
      throw refused('Recovery request is not signed by this co-signer’s identity key');
    }
    if (cosigner.archived) throw refused('This co-signer is archived');
    const outcome = await this.db.transaction().execute(async (trx) => {
      // The operator's co-signers (cloud slots, the communal test co-signer) need no approval.
      const approved =
        cosigner.cloud_slot !== null ||
        cosigner.type === SANDBOX_COSIGNER_TYPE ||
        (await trx
          .selectFrom('cosigner_api_keys')
          .select('id')
          .where('cosigner_id', '=', cosignerId)
          .where('status', '=', 'PAIRED')
          .executeTakeFirst()) !== undefined;
      if (!approved) {
        return refused('This co-signer has no approved pairing; wait for the Owner’s approval');
      }
      await trx
        .deleteFrom('cosigner_recovery_nonces')
        .where('cosigner_id', '=', cosignerId)
        .where('expires_at', '<', now)
        .execute();
      const fresh = await trx
        .insertInto('cosigner_recovery_nonces')
        .values({
          cosigner_id: cosignerId,
          nonce: request.nonce,
          expires_at: new Date(request.expiresAt),
        })
        .onConflict((oc) => oc.columns(['cosigner_id', 'nonce']).doNothing())
        .returning('nonce')
        .executeTakeFirst();
      if (!fresh) return refused('Recovery request was already used; sign a new one');
      const revoked = await this.tokens.revokeAllOf(trx, cosignerId, 'recovered', now);
      const issued = await this.tokens.startFamily(trx, cosignerId);
      await this.audit.appendIn(trx, {
        workspaceId: cosigner.workspace_id,
        actorKind: 'system',
        actorId: null,
        action: 'cosigner.recovered',
        subject: cosignerId,
        details: { revokedFamilies: revoked, at: now.toISOString() },
      });
      return issued;
    });
    if (outcome instanceof CosignerTokenError) throw outcome;
    // Committed: no access token of a revoked family may be answered from memory here.
    this.tokens.forgetVerifiedAccessTokens();
    return outcome;
  }
}

function refused(message: string): CosignerTokenError {
  return new CosignerTokenError(
    'ERR_COSIGNER_RECOVERY_REFUSED',
    'COSIGNER_RECOVERY_REFUSED',
    message,
  );
}
