/**
 * The platform's own check of a signature the parties report (ARCHITECTURE §4 step 6), before a
 * transaction is COMPLETED: Ed25519 with node:crypto (RFC 8032 §5.1.7); ECDSA over secp256k1
 * with @noble/curves on the 32-byte digest as signed (SEC 1 §4.1.4; node:crypto hashes what it
 * verifies), low-s, and the recovery id must recover the reported key. The caller has checked
 * that the key is the one it derives from the root key and the path (signing-orchestrator.ts);
 * each party derived it too and verified the signature before reporting (docs/transactions.md).
 */
import { createPublicKey, verify } from 'node:crypto';
import type { KeyAlgorithm } from '@countersign/protocol';
import { secp256k1 } from '@noble/curves/secp256k1.js';

/** The content is the digest itself (no hashing); only low-s signatures (BIP62, EIP-2). */
const ECDSA_RAW = { prehash: false, lowS: true } as const;
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
    const { recoveryId } = reported;
    if (reported.publicKey.length !== 33 || reported.signature.length !== 64) return false;
    if (recoveryId !== 0 && recoveryId !== 1) return false;
    if (!secp256k1.verify(reported.signature, content, reported.publicKey, ECDSA_RAW)) return false;
    const recovered = secp256k1.Signature.fromBytes(reported.signature, 'compact')
      .addRecoveryBit(recoveryId)
      .recoverPublicKey(content)
      .toBytes(true);
    return Buffer.from(recovered).equals(reported.publicKey);
  } catch {
    return false;
  }
}
