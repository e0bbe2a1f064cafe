/**
 * The platform's own check of a signature the parties report (ARCHITECTURE §4 step 6), before a
 * transaction is COMPLETED: Ed25519 with node:crypto (RFC 8032 §5.1.7). The public key is the
 * derived key all three parties reported alike; each party derived it from its share set and
 * verified the signature itself before reporting (docs/transactions.md).
 */
import { createPublicKey, verify } from 'node:crypto';
import type { KeyAlgorithm } from '@countersign/protocol';

/** SubjectPublicKeyInfo DER prefix of an Ed25519 key (RFC 8410 §4): the 32-byte key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface ReportedSignature {
  readonly signature: Buffer;
  readonly publicKey: Buffer;
  readonly recoveryId?: number | undefined;
}

/** Whether `signature` verifies for `content` under `publicKey`; never throws on bad input. */
export function signatureVerifies(
  algorithm: KeyAlgorithm,
  content: Buffer,
  reported: ReportedSignature,
): boolean {
  try {
    if (algorithm === 'EDDSA_ED25519') {
      if (reported.publicKey.length !== 32 || reported.signature.length !== 64) return false;
      const key = createPublicKey({
        key: Buffer.concat([ED25519_SPKI_PREFIX, reported.publicKey]),
        format: 'der',
        type: 'spki',
      });
      return verify(null, content, key, reported.signature);
    }
    return false;
  } catch {
    return false;
  }
}
