/**
 * Key generation end to end with real processes on loopback (signing-stack.ts): `countersign
 * dev` (the platform), two Cloud Co-signers registered with cloud pairing tokens and one API
 * co-signer paired to a Signer, each a separate `cosigner start` process with its own store. The
 * API co-signer's pairing waits for the workspace Owner, who approves it while the platform is
 * stopped (the Owner acts on the embedded database; see helpers.ts). After the pairing, both
 * root keys (EDDSA_ED25519 by FROST, ECDSA_SECP256K1 by DKLs23) are generated through the relay:
 * every party holds a share set of each with the same group public key, and the platform
 * recorded the same keys.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';
import { startSigningStack, type SigningStack } from './signing-stack.js';

describe('KEYGEN through the relay, every party a process', () => {
  let stack: SigningStack | undefined;
  afterAll(async () => {
    if (!stack) return;
    await stack.stop();
    stack.remove();
  });

  it('generates both root keys among cloud-1, cloud-2 and the API co-signer', async () => {
    // Resolves once every party holds both share sets (it fails with the daemons' logs if not).
    stack = await startSigningStack('countersign-keygen-', { fresh: true });
    const sets = stack.shareSets;
    expect(sets.map((s) => s.length)).toEqual([2, 2, 2]);
    for (const algorithm of ['EDDSA_ED25519', 'ECDSA_SECP256K1']) {
      const mine = sets.map((s) => s.find((x) => x.algorithm === algorithm)!);
      expect(new Set(mine.map((m) => m.id)).size).toBe(1);
      expect(new Set(mine.map((m) => m.publicKey)).size).toBe(1);
      expect(mine[0]!.publicKey).toMatch(/^[0-9a-f]{64,66}$/);
      for (const m of mine) expect(m.apiKeyId).toBe(stack.signerId);
    }

    // The platform recorded the same public keys (audited with the root key).
    const audit = runCli(['api', 'GET', '/v1/management/audit_logs'], stack.cwd);
    expect(audit.status, audit.stderr).toBe(0);
    for (const s of sets[2]!) expect(audit.stdout).toContain(s.publicKey!);

    // Graceful stop on SIGTERM: every daemon exits 0.
    expect(await stack.stop()).toEqual([0, 0, 0]);
  }, 400_000);
});
