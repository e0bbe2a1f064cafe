/**
 * Console-user passwords: scrypt (N=2^17, r=8, p=1, 32-byte key, 16-byte
 * salt: the OWASP Password Storage Cheat Sheet's minimum), encoded with its
 * parameters, so a stored hash is always verified with the parameters it was
 * made with: hashes from before the raise (N=2^15) keep working. Comparison is
 * constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_PARAMS = { N: 1 << 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

/**
 * Bounds on the parameters read from a stored hash, i.e. what one
 * verification may cost: memory 128 × N × r ≤ 2^18 × 8 × 128 B = 256 MiB.
 */
const MIN_LOG2_N = 14;
const MAX_LOG2_N = 18;
const MAX_R = 8;
const MAX_P = 4;

function scryptAsync(
  password: string,
  salt: Buffer,
  keylen: number,
  opts: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { ...opts, maxmem: 128 * opts.N! * opts.r! * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `params` is for tests and migrations only; production hashes use SCRYPT_PARAMS. */
export async function hashPassword(
  password: string,
  params: { N: number; r: number; p: number } = SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LENGTH, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Verifies with the parameters stored in `encoded`; false for a malformed or out-of-bounds hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, saltB64, keyB64, ...rest] = encoded.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !saltB64 || !keyB64 || rest.length > 0) {
    return false;
  }
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!parametersAccepted(params)) return false;
  const expected = Buffer.from(keyB64, 'base64');
  if (expected.length < 16) return false;
  const key = await scryptAsync(password, Buffer.from(saltB64, 'base64'), expected.length, params);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

function parametersAccepted({ N, r, p }: { N: number; r: number; p: number }): boolean {
  const log2N = Math.log2(N);
  return (
    Number.isInteger(log2N) &&
    log2N >= MIN_LOG2_N &&
    log2N <= MAX_LOG2_N &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= MAX_R &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_P
  );
}

/** A random password for a new Owner, printed once: 24 characters of base64url (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
