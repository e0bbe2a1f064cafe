/**
 * Authenticates one API request in two phases, so that nothing is done for an
 * unidentified caller beyond one key lookup and one signature check:
 *
 * 1. `verifyHeaders`, before the body is read: API key → JWT signature →
 *    claims (sub, uri, time window) → account state → IP allowlist.
 * 2. `verifyBody` on the raw bytes, before they are parsed, and `complete`,
 *    which consumes the nonce last, so a rejected request does not burn it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isRole, type Role } from '@countersign/protocol';
import type { ApiUserRepository, ApiUserRow } from '../api-users/api-user-repository.js';
import { AuthError } from '../errors.js';
import { ipAllowed } from './ip-allowlist.js';
import type { NonceStore } from './nonce-store.js';
import type { Principal } from './principal.js';
import {
  MAX_TOKEN_LIFETIME_SECONDS,
  bodyHashMatches,
  decodeRequestJwt,
  verifyRequestSignature,
  type RequestClaims,
} from './request-jwt.js';

export interface RequestHeaders {
  apiKey: string | undefined;
  authorization: string | undefined;
  /** Path and query exactly as received. */
  url: string;
  ip: string;
}

/** Phase 1's result: a verified token whose body and nonce are still to be checked. */
export interface PendingAuthentication {
  readonly user: ApiUserRow & { role: Role };
  readonly claims: RequestClaims;
}

export interface AuthenticatorOptions {
  clockSkewSeconds: number;
  now?: () => number;
}

/**
 * How long a nonce is remembered past the token's `exp`: generous, because
 * the instance that sweeps may have a clock behind the one that accepted it.
 */
const NONCE_RETENTION_MARGIN_SECONDS = 60;

export class RequestAuthenticator {
  private readonly keys = new Map<string, { pem: string; key: KeyObject }>();
  private readonly now: () => number;

  constructor(
    private readonly apiUsers: ApiUserRepository,
    private readonly nonces: NonceStore,
    private readonly options: AuthenticatorOptions,
  ) {
    this.now = options.now ?? (() => Date.now());
  }

  async verifyHeaders(req: RequestHeaders): Promise<PendingAuthentication> {
    if (!req.apiKey) {
      throw new AuthError(
        'ERR_AUTH_MISSING_API_KEY',
        'MISSING_API_KEY',
        'Unauthorized: missing X-API-Key header',
      );
    }
    const token = /^Bearer ([^\s]+)$/.exec(req.authorization ?? '')?.[1];
    if (!token) {
      throw new AuthError(
        'ERR_AUTH_MISSING_JWT',
        'MISSING_JWT',
        'Unauthorized: missing bearer token',
      );
    }
    const user = await this.apiUsers.findForAuthentication(req.apiKey);
    if (!user) throw notAccepted('ERR_AUTH_UNKNOWN_API_KEY', 'unknown API key');

    const { claims, signingInput, signature } = decodeRequestJwt(token);
    verifyRequestSignature(this.publicKey(user.id, user.public_key_pem), signingInput, signature);
    try {
      return { user: this.checkClaims(user, claims, req), claims };
    } catch (error) {
      if (error instanceof AuthError) attributeTo(error, user);
      throw error;
    }
  }

  /** The claim must be the SHA-256 of the exact bytes received (none: the empty forms). */
  verifyBody(pending: PendingAuthentication, rawBody: Buffer | undefined): void {
    if (!bodyHashMatches(pending.claims.bodyHash, rawBody)) {
      throw attributeTo(
        new AuthError(
          'ERR_AUTH_BODY_HASH',
          'INVALID_SIGNATURE',
          'Unauthorized: body hash does not match the request body',
        ),
        pending.user,
      );
    }
  }

  /** Consumes the nonce: the last step, after everything else about the request checked out. */
  async complete(pending: PendingAuthentication): Promise<Principal> {
    const { user, claims } = pending;
    const keepUntil = new Date(
      (claims.exp + 2 * this.options.clockSkewSeconds + NONCE_RETENTION_MARGIN_SECONDS) * 1000,
    );
    if (!(await this.nonces.consume(user.id, claims.nonce, keepUntil))) {
      throw attributeTo(notAccepted('ERR_AUTH_REPLAY', 'nonce already used'), user);
    }
    return {
      kind: 'api_user',
      id: user.id,
      workspaceId: user.workspace_id,
      role: user.role,
      name: user.name,
    };
  }

  private checkClaims(
    user: ApiUserRow,
    claims: RequestClaims,
    req: RequestHeaders,
  ): ApiUserRow & { role: Role } {
    const role = user.role;
    if (!user.enabled || user.status !== 'READY' || !isRole(role)) {
      throw notAccepted('ERR_AUTH_API_KEY_DISABLED', 'API key is not enabled');
    }
    if (claims.sub.toLowerCase() !== user.id) {
      throw notAccepted('ERR_AUTH_SUB_MISMATCH', 'token subject does not match the API key');
    }
    if (claims.uri !== req.url) {
      throw new AuthError(
        'ERR_AUTH_WRONG_URI',
        'WRONG_URI',
        'Unauthorized: token uri does not match the request',
      );
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    const skew = this.options.clockSkewSeconds;
    if (claims.iat > nowSeconds + skew) {
      throw new AuthError(
        'ERR_AUTH_FUTURE_IAT',
        'FUTURE_IAT',
        'Unauthorized: token issued in the future',
      );
    }
    if (claims.exp < nowSeconds - skew) {
      throw new AuthError('ERR_AUTH_EXPIRED', 'TOKEN_EXPIRED', 'Unauthorized: token expired');
    }
    if (claims.exp <= claims.iat || claims.exp - claims.iat > MAX_TOKEN_LIFETIME_SECONDS) {
      throw notAccepted(
        'ERR_AUTH_LIFETIME',
        `token lifetime must be at most ${MAX_TOKEN_LIFETIME_SECONDS} s`,
      );
    }
    if (!ipAllowed(user.ip_allowlist, req.ip)) {
      throw notAccepted('ERR_AUTH_IP_NOT_ALLOWED', 'IP address not allowed for this API key');
    }
    return { ...user, role };
  }

  private publicKey(id: string, pem: string): KeyObject {
    const cached = this.keys.get(id);
    if (cached && cached.pem === pem) return cached.key;
    const key = createPublicKey(pem);
    this.keys.set(id, { pem, key });
    return key;
  }
}

/** Files a failure under the API user whose signature verified (see AuthError). */
function attributeTo(error: AuthError, user: ApiUserRow): AuthError {
  error.verifiedApiUser = { id: user.id, workspaceId: user.workspace_id };
  return error;
}

function notAccepted(code: string, reason: string): AuthError {
  return new AuthError(code, 'TOKEN_NOT_ACCEPTED', `Unauthorized: token not accepted (${reason})`);
}
