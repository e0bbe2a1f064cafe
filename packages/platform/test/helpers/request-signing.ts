/**
 * Signs test requests exactly as the Fireblocks scheme requires, with every
 * claim overridable so tests can forge each kind of bad token.
 */
import { createHash, randomUUID, sign, type KeyObject } from 'node:crypto';

export interface ClaimOverrides {
  uri?: string;
  nonce?: string;
  iat?: number;
  exp?: number;
  sub?: string;
  bodyHash?: string;
}

export function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export function signJwt(
  key: KeyObject,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}

export function requestClaims(
  apiKey: string,
  url: string,
  body: string,
  overrides: ClaimOverrides = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    uri: url,
    nonce: randomUUID(),
    iat: now,
    exp: now + 55,
    sub: apiKey,
    bodyHash: createHash('sha256').update(body).digest('hex'),
    ...overrides,
  };
}

export function authHeaders(
  key: KeyObject,
  apiKey: string,
  url: string,
  body = '',
  overrides: ClaimOverrides = {},
): Record<string, string> {
  const token = signJwt(
    key,
    { alg: 'RS256', typ: 'JWT' },
    requestClaims(apiKey, url, body, overrides),
  );
  return { 'x-api-key': apiKey, authorization: `Bearer ${token}` };
}
