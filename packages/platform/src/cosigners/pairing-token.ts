/**
 * Pairing tokens: compact JWS (RFC 7515/7519) with HS256 (RFC 7518 §3.2)
 * under a random 256-bit key the platform keeps in its database.
 *
 * Why HMAC: only the platform ever verifies a pairing token (the co-signer
 * just carries it), so there is no public key to hand out. Every token is
 * also recorded by its SHA-256 in `pairing_tokens`; the signature rejects
 * forgeries before the database is asked, the row makes it single-use.
 *
 * Verification is strict: the header must be exactly `{alg: HS256, typ: JWT}`
 * (so `alg: none` or an RSA/HMAC confusion never reaches the MAC), the MAC is
 * compared in constant time, then issuer, audience, ids and times are checked.
 * Every signature failure has the same message (no oracle).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CosignerTokenError } from '../errors.js';

export const PAIRING_TOKEN_ISSUER = 'countersign-platform';
export const PAIRING_TOKEN_AUDIENCE = 'countersign:cosigner-pairing';

export interface PairingTokenClaims {
  /** The token's id, also the key of its `pairing_tokens` row. */
  jti: string;
  /** The API user (API key) the co-signer will pair. */
  sub: string;
  /** The API user's workspace. */
  wid: string;
  iat: number;
  exp: number;
}

const HEADER = { alg: 'HS256', typ: 'JWT' } as const;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Tolerated clock difference between platform instances for `iat`. */
const IAT_LEEWAY_SECONDS = 60;

export function signPairingToken(key: Buffer, claims: PairingTokenClaims): string {
  const payload = { iss: PAIRING_TOKEN_ISSUER, aud: PAIRING_TOKEN_AUDIENCE, ...claims };
  const input = `${b64(JSON.stringify(HEADER))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${mac(key, input).toString('base64url')}`;
}

function invalid(): CosignerTokenError {
  return new CosignerTokenError(
    'ERR_PAIRING_TOKEN_INVALID',
    'PAIRING_TOKEN_INVALID',
    'Pairing token is not valid',
  );
}

/**
 * The claims of a genuine, unexpired token. Expiry is reported separately
 * only once the signature has verified.
 */
export function verifyPairingToken(
  key: Buffer,
  token: string,
  nowSeconds: number,
): PairingTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw invalid();
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  if (
    !header ||
    Object.keys(header).length !== 2 ||
    header['alg'] !== HEADER.alg ||
    header['typ'] !== HEADER.typ
  ) {
    throw invalid();
  }
  const expected = mac(key, `${h}.${p}`);
  const presented = Buffer.from(s, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw invalid();
  }
  const c = decodeJson(p);
  if (
    !c ||
    c['iss'] !== PAIRING_TOKEN_ISSUER ||
    c['aud'] !== PAIRING_TOKEN_AUDIENCE ||
    !isUuid(c['jti']) ||
    !isUuid(c['sub']) ||
    !isUuid(c['wid']) ||
    !Number.isSafeInteger(c['iat']) ||
    !Number.isSafeInteger(c['exp'])
  ) {
    throw invalid();
  }
  const claims: PairingTokenClaims = {
    jti: c['jti'],
    sub: c['sub'],
    wid: c['wid'],
    iat: c['iat'] as number,
    exp: c['exp'] as number,
  };
  if (claims.iat > nowSeconds + IAT_LEEWAY_SECONDS) throw invalid();
  if (claims.exp <= nowSeconds) {
    throw new CosignerTokenError(
      'ERR_PAIRING_TOKEN_EXPIRED',
      'PAIRING_TOKEN_EXPIRED',
      'Pairing token has expired; ask an admin for a new one',
    );
  }
  return claims;
}

function mac(key: Buffer, input: string): Buffer {
  return createHmac('sha256', key).update(input, 'ascii').digest();
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
