/**
 * The platform's reading of a public share set (the mpc package's `encodePublicShareSet`): the
 * public values a KEYGEN or RESHARE party reports — curve, threshold, party indices, the group
 * public key, the chain code and one verification share per party. The platform does not import
 * `@countersign/mpc` (ARCHITECTURE §2), so it reads this public layout itself, structure only
 * (no point is decoded): enough to check a reshare receiver's report names the root key, the
 * session's receivers and the threshold (reshare review L1). The test pins it to mpc's encoder.
 *
 * Layout: u8 curve wire id (1 secp256k1, 2 ed25519) ‖ u8 threshold ‖ u8 n ‖ n × u16 big-endian
 * party index ‖ public key ‖ 32-byte chain code ‖ n × verification share (points of the curve's
 * length: 33 bytes compressed secp256k1, 32 bytes ed25519).
 */
import type { KeyAlgorithm } from '@countersign/protocol';

const CURVE_OF: Record<KeyAlgorithm, { wireId: number; pointLength: number }> = {
  ECDSA_SECP256K1: { wireId: 1, pointLength: 33 },
  EDDSA_ED25519: { wireId: 2, pointLength: 32 },
};

export interface PublicShareSetFacts {
  readonly threshold: number;
  readonly parties: readonly number[];
  /** Hex. */
  readonly publicKey: string;
  /** Hex. */
  readonly chainCode: string;
}

/** The facts of `hex` as a public share set of `algorithm`'s curve, or undefined if it is not one. */
export function readPublicShareSet(
  hex: string,
  algorithm: KeyAlgorithm,
): PublicShareSetFacts | undefined {
  const curve = CURVE_OF[algorithm];
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length < 3 || bytes.toString('hex') !== hex) return undefined;
  const [wireId, threshold, n] = [bytes[0]!, bytes[1]!, bytes[2]!];
  const partiesEnd = 3 + 2 * n;
  const keyEnd = partiesEnd + curve.pointLength;
  const chainEnd = keyEnd + 32;
  if (wireId !== curve.wireId || bytes.length !== chainEnd + n * curve.pointLength)
    return undefined;
  const parties: number[] = [];
  for (let k = 3; k < partiesEnd; k += 2) parties.push(bytes.readUInt16BE(k));
  return {
    threshold,
    parties,
    publicKey: bytes.subarray(partiesEnd, keyEnd).toString('hex'),
    chainCode: bytes.subarray(keyEnd, chainEnd).toString('hex'),
  };
}
