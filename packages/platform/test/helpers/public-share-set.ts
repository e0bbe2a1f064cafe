/**
 * A well-formed public share set of a root key (mpc's encoder), as a KEYGEN or RESHARE receiver
 * reports it: the platform judges RESHARE reports by this layout (reshare review L1). `tag`
 * fills the verification shares, telling sets apart.
 */
import { encodePublicShareSet } from '@countersign/mpc';

export function publicShareSetHex(
  algorithm: string,
  root: { publicKey: string; chainCode?: string | null },
  parties: readonly number[],
  over: { threshold?: number; publicKey?: string; tag?: number } = {},
): string {
  const eddsa = algorithm === 'EDDSA_ED25519';
  return Buffer.from(
    encodePublicShareSet({
      curve: eddsa ? 'ed25519' : 'secp256k1',
      threshold: over.threshold ?? 3,
      parties: [...parties],
      publicKey: Buffer.from(over.publicKey ?? root.publicKey, 'hex'),
      chainCode: Buffer.from(root.chainCode!, 'hex'),
      verificationShares: parties.map(() => new Uint8Array(eddsa ? 32 : 33).fill(over.tag ?? 5)),
    }),
  ).toString('hex');
}
