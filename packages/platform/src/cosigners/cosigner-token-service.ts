/**
 * Co-signer credentials after pairing: a token family per pairing session,
 * rotating refresh tokens, short-lived access tokens (OAuth 2.0 Security BCP,
 * RFC 9700 §4.14: refresh token rotation with reuse detection).
 *
 * - Each refresh token works once; using it returns a new access token and a
 *   new refresh token of the same family.
 * - Presenting an already rotated refresh token means two parties hold the
 *   family's tokens (one of them stole it): the whole family is revoked, its
 *   access tokens included, and the event is audited.
 * - Tokens are stored as SHA-256 hashes and found by that hash.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { CosignerTokenError } from '../errors.js';
import { bearerToken } from './bearer.js';
import type { CosignerRepository } from './cosigner-repository.js';
import { newOpaqueToken, presentedTokenHash } from './opaque-token.js';

export const ACCESS_TOKEN_TTL_MS = 5 * 60 * 1000;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * A token family's absolute lifetime (pairing review L4): rotation renews a refresh token's 30
 * days, but never past this, so a stolen token kept alive by rotation dies anyway. The co-signer
 * then recovers a new family with its identity key (cosigner-recovery.ts).
 */
export const FAMILY_MAX_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;
/** lastSeen is written at most this often per co-signer. */
const LAST_SEEN_GRANULARITY_MS = 15_000;
/**
 * How long this instance answers a verified access token from memory: every relay call of a
 * signing is authenticated, and the lookup was its most frequent query. A revocation made here
 * clears the memory once committed (forgetVerifiedAccessTokens); one made by another instance
 * takes effect here within this time. Expiry is checked on every call.
 */
const ACCESS_TOKEN_MEMORY_MS = 1_000;
/** Access tokens kept in memory at most; past this they are forgotten and looked up again. */
const MAX_REMEMBERED_ACCESS_TOKENS = 4096;

export interface IssuedRefreshToken {
  refreshToken: string;
  expiresAt: Date;
}

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

/** Who an access token speaks for. */
export interface CosignerCaller {
  cosignerId: string;
  familyId: string;
}

type RefreshOutcome =
  | { ok: true; tokens: IssuedTokens }
  /** `revoked`: the transaction revoked the token's family. */
  | { ok: false; error: CosignerTokenError; revoked?: true };

export class CosignerTokenService {
  /**
   * When this instance last wrote each co-signer's lastSeen. Every relay call authenticates, a
   * signing session makes dozens of them, and the conditional UPDATE costs a database round
   * trip even when it changes nothing; within the granularity it would not write anyway.
   */
  private readonly lastSeenWritten = new Map<string, number>();
  /** Verified access tokens by hash, with when they were looked up (clock ms). */
  private readonly verifiedAccess = new Map<
    string,
    { cosignerId: string; familyId: string; expiresAt: number; lookedUpAt: number }
  >();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly cosigners: CosignerRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Starts a token family for a co-signer, inside the pairing transaction. */
  async startFamily(trx: Transaction<Database>, cosignerId: string): Promise<IssuedRefreshToken> {
    const now = this.clock();
    const familyId = randomUUID();
    await trx
      .insertInto('cosigner_token_families')
      .values({ id: familyId, cosigner_id: cosignerId, created_at: now })
      .execute();
    return this.issueRefreshToken(
      trx,
      familyId,
      now,
      new Date(now.getTime() + FAMILY_MAX_LIFETIME_MS),
    );
  }

  /** Exchanges a refresh token for an access token and its successor. */
  async refresh(refreshToken: string): Promise<IssuedTokens> {
    const hash = presentedTokenHash('refresh', refreshToken);
    if (!hash) throw refreshInvalid();
    // Reuse must revoke the family even though the call fails, so the
    // transaction returns its verdict and the error is thrown after commit.
    const outcome = await this.db.transaction().execute(async (trx): Promise<RefreshOutcome> => {
      const now = this.clock();
      const row = await trx
        .selectFrom('cosigner_refresh_tokens as t')
        .innerJoin('cosigner_token_families as f', 'f.id', 't.family_id')
        .innerJoin('cosigners as c', 'c.id', 'f.cosigner_id')
        .select([
          't.family_id',
          't.expires_at',
          't.rotated_at',
          'f.cosigner_id',
          'f.revoked_at',
          'f.created_at as family_created_at',
          'c.workspace_id',
          'c.archived',
        ])
        .where('t.token_hash', '=', hash)
        .forUpdate('t')
        .executeTakeFirst();
      if (!row) return { ok: false, error: refreshInvalid() };
      if (row.revoked_at !== null || row.archived) return { ok: false, error: familyRevoked() };
      if (row.rotated_at !== null) {
        await this.revokeFamily(trx, row.family_id, 'refresh_token_reused', now);
        await this.audit.appendIn(trx, {
          workspaceId: row.workspace_id,
          actorKind: 'system',
          actorId: null,
          action: 'cosigner.refresh_token_reused',
          subject: row.cosigner_id,
          details: { familyId: row.family_id, rotatedAt: row.rotated_at.toISOString() },
        });
        return {
          ok: false,
          revoked: true,
          error: new CosignerTokenError(
            'ERR_REFRESH_TOKEN_REUSED',
            'REFRESH_TOKEN_REUSED',
            'Refresh token was already used; every token of this co-signer session is now revoked. Recover with the identity key (POST /cosigner/v1/recover).',
          ),
        };
      }
      if (row.expires_at.getTime() <= now.getTime()) {
        return {
          ok: false,
          error: new CosignerTokenError(
            'ERR_REFRESH_TOKEN_EXPIRED',
            'REFRESH_TOKEN_EXPIRED',
            'Refresh token has expired (30 days unused, or the session reached its 90-day limit); recover with the identity key (POST /cosigner/v1/recover)',
          ),
        };
      }
      await trx
        .updateTable('cosigner_refresh_tokens')
        .set({ rotated_at: now })
        .where('token_hash', '=', hash)
        .execute();
      // Rotated tokens matter for reuse detection only until they expire: drop older ones.
      await trx
        .deleteFrom('cosigner_refresh_tokens')
        .where('family_id', '=', row.family_id)
        .where('rotated_at', 'is not', null)
        .where('expires_at', '<', now)
        .execute();
      const next = await this.issueRefreshToken(
        trx,
        row.family_id,
        now,
        new Date(row.family_created_at.getTime() + FAMILY_MAX_LIFETIME_MS),
      );
      const access = newOpaqueToken('access');
      const accessTokenExpiresAt = new Date(now.getTime() + ACCESS_TOKEN_TTL_MS);
      await trx
        .insertInto('cosigner_access_tokens')
        .values({
          token_hash: access.hash,
          family_id: row.family_id,
          cosigner_id: row.cosigner_id,
          expires_at: accessTokenExpiresAt,
        })
        .execute();
      // Expired access tokens of this co-signer are useless: drop them as we go.
      await trx
        .deleteFrom('cosigner_access_tokens')
        .where('cosigner_id', '=', row.cosigner_id)
        .where('expires_at', '<', now)
        .execute();
      return {
        ok: true,
        tokens: {
          accessToken: access.token,
          accessTokenExpiresAt,
          refreshToken: next.refreshToken,
          refreshTokenExpiresAt: next.expiresAt,
        },
      };
    });
    if (!outcome.ok) {
      if (outcome.revoked === true) this.forgetVerifiedAccessTokens();
      throw outcome.error;
    }
    return outcome.tokens;
  }

  /** The co-signer a bearer access token speaks for; refreshes its lastSeen. */
  async authenticate(authorization: string | undefined): Promise<CosignerCaller> {
    const presented = bearerToken(authorization);
    const hash = presented === undefined ? undefined : presentedTokenHash('access', presented);
    if (!hash) throw accessInvalid();
    const now = this.clock();
    const token = await this.verifiedAccessToken(hash, now.getTime());
    if (token.expiresAt <= now.getTime()) {
      throw new CosignerTokenError(
        'ERR_ACCESS_TOKEN_EXPIRED',
        'ACCESS_TOKEN_EXPIRED',
        'Access token has expired; get a new one from /cosigner/v1/token',
      );
    }
    const written = this.lastSeenWritten.get(token.cosignerId);
    if (written === undefined || now.getTime() - written >= LAST_SEEN_GRANULARITY_MS) {
      await this.cosigners.touchLastSeen(token.cosignerId, now, LAST_SEEN_GRANULARITY_MS);
      this.lastSeenWritten.set(token.cosignerId, now.getTime());
    }
    return { cosignerId: token.cosignerId, familyId: token.familyId };
  }

  /**
   * A co-signer stopping cleanly: not available (mpc/share-sets.ts) until it polls for work
   * again — a `cosigner status` or `rename` while its daemon is stopped does not count.
   */
  async markOffline(cosignerId: string): Promise<void> {
    const now = this.clock();
    if (await this.cosigners.markOffline(cosignerId, now)) {
      // Audited once per stop: a token holder who repeats it leaves one entry, not a flood.
      const row = await this.cosigners.findById(cosignerId);
      await this.audit.append({
        workspaceId: row?.workspace_id ?? null,
        actorKind: 'cosigner',
        actorId: cosignerId,
        action: 'cosigner.offline',
        subject: cosignerId,
        details: { at: now.toISOString() },
      });
    }
  }

  /**
   * A work poll, called as it arrives: the co-signer serves work, so a clean stop it announced
   * before is over. One conditional update per poll (a primary-key lookup): polls come about
   * once per job, or every 25 s when idle.
   */
  async markServing(cosignerId: string): Promise<void> {
    await this.cosigners.markServing(cosignerId, this.clock());
  }

  /**
   * The unrevoked access token of `hash`, from memory if looked up within
   * ACCESS_TOKEN_MEMORY_MS; throws for an unknown or revoked one (never remembered).
   */
  private async verifiedAccessToken(
    hash: string,
    nowMs: number,
  ): Promise<{ cosignerId: string; familyId: string; expiresAt: number }> {
    const known = this.verifiedAccess.get(hash);
    if (
      known !== undefined &&
      nowMs >= known.lookedUpAt &&
      nowMs - known.lookedUpAt < ACCESS_TOKEN_MEMORY_MS
    )
      return known;
    const row = await this.db
      .selectFrom('cosigner_access_tokens as a')
      .innerJoin('cosigner_token_families as f', 'f.id', 'a.family_id')
      .innerJoin('cosigners as c', 'c.id', 'a.cosigner_id')
      .select(['a.cosigner_id', 'a.family_id', 'a.expires_at', 'f.revoked_at', 'c.archived'])
      .where('a.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) throw accessInvalid();
    if (row.revoked_at !== null || row.archived) throw familyRevoked();
    const verified = {
      cosignerId: row.cosigner_id,
      familyId: row.family_id,
      expiresAt: row.expires_at.getTime(),
      lookedUpAt: nowMs,
    };
    if (this.verifiedAccess.size >= MAX_REMEMBERED_ACCESS_TOKENS) this.verifiedAccess.clear();
    this.verifiedAccess.set(hash, verified);
    return verified;
  }

  /**
   * Forgets every access token verified from memory: a revoking transaction's caller calls this
   * once it has committed, so no lookup that raced it keeps a revoked token alive here.
   */
  forgetVerifiedAccessTokens(): void {
    this.verifiedAccess.clear();
  }

  /**
   * Revokes every live family of a co-signer (a recovery replaces them); returns how many. The
   * caller calls forgetVerifiedAccessTokens after its transaction commits.
   */
  async revokeAllOf(
    trx: Transaction<Database>,
    cosignerId: string,
    reason: string,
    now: Date,
  ): Promise<number> {
    const revoked = await trx
      .updateTable('cosigner_token_families')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('cosigner_id', '=', cosignerId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    await trx.deleteFrom('cosigner_access_tokens').where('cosigner_id', '=', cosignerId).execute();
    return Number(revoked.numUpdatedRows);
  }

  private async revokeFamily(
    trx: Transaction<Database>,
    familyId: string,
    reason: string,
    now: Date,
  ): Promise<void> {
    await trx
      .updateTable('cosigner_token_families')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('id', '=', familyId)
      .where('revoked_at', 'is', null)
      .execute();
    await trx.deleteFrom('cosigner_access_tokens').where('family_id', '=', familyId).execute();
  }

  private async issueRefreshToken(
    trx: Transaction<Database>,
    familyId: string,
    now: Date,
    /** The family's absolute end: no token of it outlives this. */
    familyEndsAt: Date,
  ): Promise<IssuedRefreshToken> {
    const { token, hash } = newOpaqueToken('refresh');
    const expiresAt = new Date(
      Math.min(now.getTime() + REFRESH_TOKEN_TTL_MS, familyEndsAt.getTime()),
    );
    await trx
      .insertInto('cosigner_refresh_tokens')
      .values({ token_hash: hash, family_id: familyId, issued_at: now, expires_at: expiresAt })
      .execute();
    return { refreshToken: token, expiresAt };
  }
}

function refreshInvalid(): CosignerTokenError {
  return new CosignerTokenError(
    'ERR_REFRESH_TOKEN_INVALID',
    'REFRESH_TOKEN_INVALID',
    'Refresh token is not valid',
  );
}

function accessInvalid(): CosignerTokenError {
  return new CosignerTokenError(
    'ERR_ACCESS_TOKEN_INVALID',
    'ACCESS_TOKEN_INVALID',
    'A valid co-signer access token is required (Authorization: Bearer)',
  );
}

function familyRevoked(): CosignerTokenError {
  return new CosignerTokenError(
    'ERR_TOKEN_FAMILY_REVOKED',
    'TOKEN_FAMILY_REVOKED',
    'This co-signer session was revoked; recover with the identity key (POST /cosigner/v1/recover)',
  );
}
