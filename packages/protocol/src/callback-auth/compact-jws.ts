/**
 * RS256 JSON Web Tokens in compact serialization (RFC 7515 §7.1, RFC 7519), the only form the
 * callback protocol uses. Verification is deliberately narrow: the header must be exactly
 * `{"alg":"RS256"}` plus an optional `"typ":"JWT"`; `none`, HS256 (with the public key as a
 * secret), `kid`, `jku`, `jwk`, `x5u`, `x5c` and `crit` are all refused, because the one
 * configured key is the only key that may ever verify. Every verification failure raises the
 * same error with the same message, so a prober learns nothing about which check failed.
 * @module
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto';

import { CallbackError } from './callback-auth-error.js';
import { rsaSignatureLength } from './rsa-keys.js';

const HEADER = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
const B64URL = /^[A-Za-z0-9_-]+$/;

/** Upper bound on a token (and so on its JSON), far above any real callback payload. */
export const MAX_JWT_LENGTH = 4 * 1024 * 1024;

export type JwtClaims = Record<string, unknown>;

const invalid = () => new CallbackError('ERR_CALLBACK_JWT_INVALID', 'invalid token');

/** Signs `claims` with RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3). */
export function signRs256Jwt(claims: JwtClaims, privateKey: KeyObject): string {
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), {
    key: privateKey,
    padding: constants.RSA_PKCS1_PADDING,
  });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Verifies an RS256 compact JWS against `publicKey` and returns its claims object. Checks the
 * signature before parsing the claims: nothing unauthenticated reaches JSON.parse but the header.
 */
export function verifyRs256Jwt(token: string, publicKey: KeyObject): JwtClaims {
  if (token.length > MAX_JWT_LENGTH) throw invalid();
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid();
  const [h, p, s] = parts as [string, string, string];
  const header = decodeSegment(h);
  if (header === null || !isStrictHeader(header)) throw invalid();
  const signature = decodeBytes(s);
  if (signature === null || signature.length !== rsaSignatureLength(publicKey)) throw invalid();
  let ok = false;
  try {
    ok = verify(
      'sha256',
      Buffer.from(`${h}.${p}`, 'ascii'),
      { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw invalid();
  const claims = decodeSegment(p);
  if (claims === null) throw invalid();
  return claims;
}

function isStrictHeader(header: JwtClaims): boolean {
  for (const key of Object.keys(header)) if (key !== 'alg' && key !== 'typ') return false;
  return header['alg'] === 'RS256' && (header['typ'] === undefined || header['typ'] === 'JWT');
}

/** Base64url without padding, canonical: the bytes re-encode to exactly the same text. */
function decodeBytes(segment: string): Buffer | null {
  if (!B64URL.test(segment)) return null;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : null;
}

/**
 * A segment that is base64url of a JSON object (not an array, not null) without a repeated
 * member name anywhere: RFC 7515 §4 / RFC 7519 §4 allow "last one wins", but then
 * `{"action":"REJECT","action":"APPROVE"}` is an APPROVE here and a REJECT to a first-wins
 * reader of the same signed token, so duplicates are refused (review 2026-11-27 F9).
 */
function decodeSegment(segment: string): JwtClaims | null {
  const bytes = decodeBytes(segment);
  if (bytes === null) return null;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const value: unknown = JSON.parse(text);
    return value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      !hasDuplicateMemberNames(text)
      ? (value as JwtClaims)
      : null;
  } catch {
    return null;
  }
}

/**
 * Whether JSON `text` (already accepted by JSON.parse) has an object with two members of the
 * same name, compared after unescaping (`"a"` and `"\u0061"` are the same name).
 */
export function hasDuplicateMemberNames(text: string): boolean {
  const objects: (Set<string> | null)[] = []; // one entry per open object (a Set) or array (null)
  let nameNext = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const names = objects.at(-1);
      if (nameNext && names) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (names.has(name)) return true;
        names.add(name);
        nameNext = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      nameNext = true;
    } else if (c === '[') {
      objects.push(null);
      nameNext = false;
    } else if (c === '}' || c === ']') {
      objects.pop();
      nameNext = false;
    } else if (c === ',') {
      nameNext = objects.at(-1) instanceof Set;
    }
  }
  return false;
}
