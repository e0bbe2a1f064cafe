/**
 * Authenticates one API request, in an order that never does work for an
 * unidentified caller beyond one key lookup: API key → JWT signature → claims
 * (sub, uri, time window, body hash) → IP allowlist → nonce (consumed last,
 * so a rejected request does not burn it).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isRole } from '@countersign/protocol';
import type { ApiUserRepository } from '../api-users/api-user-repository.js';
import { AuthError } from '../errors.js';
import { ipAllowed } from './ip-allowlist.js';
import type { NonceStore } from './nonce-store.js';
import type { Principal } from './principal.js';
import {
  MAX_TOKEN_LIFETIME_SECONDS,
  bodyHashMatches,
  decodeRequestJwt,
  verifyRequestSignature,
} from './request-jwt.js';

export interface IncomingApiRequest {
  apiKey: string | undefined;
  authorization: string | undefined;
  /** Path and query exactly as received. */
  url: string;
  rawBody: Buffer | undefined;
  ip: string;
}

export interface AuthenticatorOptions {
  clockSkewSeconds: number;
  now?: () => number;
}

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

  async authenticate(req: IncomingApiRequest): Promise<Principal> {
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

    if (!user.enabled || user.status !== 'READY' || !isRole(user.role)) {
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
    if (!bodyHashMatches(claims.bodyHash, req.rawBody)) {
      throw new AuthError(
        'ERR_AUTH_BODY_HASH',
        'INVALID_SIGNATURE',
        'Unauthorized: body hash does not match the request body',
      );
    }
    if (!ipAllowed(user.ip_allowlist, req.ip)) {
      throw notAccepted('ERR_AUTH_IP_NOT_ALLOWED', 'IP address not allowed for this API key');
    }
    const keepUntil = new Date((claims.exp + skew + 1) * 1000);
    if (!(await this.nonces.consume(user.id, claims.nonce, keepUntil))) {
      throw notAccepted('ERR_AUTH_REPLAY', 'nonce already used');
    }
    return {
      kind: 'api_user',
      id: user.id,
      workspaceId: user.workspace_id,
      role: user.role,
      name: user.name,
    };
  }

  private publicKey(id: string, pem: string): KeyObject {
    const cached = this.keys.get(id);
    if (cached && cached.pem === pem) return cached.key;
    const key = createPublicKey(pem);
    this.keys.set(id, { pem, key });
    return key;
  }
}

function notAccepted(code: string, reason: string): AuthError {
  return new AuthError(code, 'TOKEN_NOT_ACCEPTED', `Unauthorized: token not accepted (${reason})`);
}
