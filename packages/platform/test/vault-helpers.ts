/**
 * Root keys for vault tests. Root keys are public data; here they come from
 * known secrets so a test can derive the expected addresses with independent
 * libraries (@scure/bip32 + viem / @scure/btc-signer; noble Ed25519 + bs58).
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { HDKey } from '@scure/bip32';
import { sql } from 'kysely';
import type { TestPlatform } from './helpers/test-platform.js';

/** The asset ids of the shipped `assets.default.json`, in file order. */
export const DEFAULT_ASSET_IDS = [
  'ETH',
  'ETH_TEST',
  'ETH_LOCAL',
  'BTC',
  'BTC_TEST',
  'SOL',
  'SOL_TEST',
];

/** Fixed secrets: the BIP32 master seed and the Ed25519 root scalar and chain code. */
export const SECP_SEED = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
export const ED_SECRET = ed25519.Point.Fn.create(
  bytesToNumberLE(Uint8Array.from({ length: 32 }, (_, i) => 200 - i)),
);
export const ED_CHAIN_CODE = Uint8Array.from({ length: 32 }, (_, i) => 7 * i);

export function secpMaster(): HDKey {
  return HDKey.fromMasterSeed(SECP_SEED);
}

export function edRootPublicKey(): Uint8Array {
  return ed25519.Point.BASE.multiply(ED_SECRET).toBytes();
}

/**
 * Inserts the workspace's root keys as the keygen orchestrator would after a
 * KEYGEN session (a session row, then `root_keys`), public data only.
 */
export async function insertRootKeys(
  p: TestPlatform,
  apiUserId: string,
  algorithms: readonly ('ECDSA_SECP256K1' | 'EDDSA_ED25519')[] = [
    'ECDSA_SECP256K1',
    'EDDSA_ED25519',
  ],
  workspaceId: string = p.workspaceId,
): Promise<void> {
  const db = p.app.services.database.db;
  const master = secpMaster();
  for (const algorithm of algorithms) {
    const sessionId = randomBytes(32).toString('hex');
    await sql`
      insert into mpc_sessions (id, workspace_id, api_user_id, purpose, algorithm, share_set_id,
        threshold, signed_roster, status, expires_at, created_at)
      values (${sessionId}, ${workspaceId}, ${apiUserId}, 'KEYGEN', ${algorithm}, ${sessionId},
        3, 'test', 'DONE', now(), now())`.execute(db);
    const [publicKey, chainCode] =
      algorithm === 'ECDSA_SECP256K1'
        ? [master.publicKey!, master.chainCode!]
        : [edRootPublicKey(), ED_CHAIN_CODE];
    await db
      .insertInto('root_keys')
      .values({
        workspace_id: workspaceId,
        algorithm,
        public_key: Buffer.from(publicKey).toString('hex'),
        chain_code: Buffer.from(chainCode).toString('hex'),
        session_id: sessionId,
        created_at: new Date(),
      })
      .execute();
  }
}
