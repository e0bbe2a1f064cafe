/**
 * Waiting for a workspace's root keys (ARCHITECTURE §3): one per algorithm, made by KEYGEN among
 * the two cloud co-signers and the first signer's co-signer. Reads the platform's database — no
 * fixed sleep — and fails as soon as an algorithm has no root key and no KEYGEN session left
 * open: the platform retries a failed attempt in the same transaction that ends it, so "none
 * open" means it has given up.
 */
import type { PlatformDatabase } from '@countersign/platform';

export const ROOT_KEY_ALGORITHMS = ['ECDSA_SECP256K1', 'EDDSA_ED25519'] as const;

export interface RootKeyWait {
  readonly timeoutMs: number;
  readonly pollMs?: number;
  /** Rejects when the wait must stop early (a co-signer stopped). */
  readonly abandoned?: Promise<never>;
}

/** The algorithms that have a root key in the workspace. */
export async function rootKeysOf(
  database: PlatformDatabase,
  workspaceId: string,
): Promise<string[]> {
  const rows = await database.db
    .selectFrom('root_keys')
    .select('algorithm')
    .where('workspace_id', '=', workspaceId)
    .execute();
  return rows.map((r) => r.algorithm);
}

/** Resolves once both root keys exist; rejects with the reason when KEYGEN failed or took too long. */
export async function waitForRootKeys(
  database: PlatformDatabase,
  workspaceId: string,
  wait: RootKeyWait,
): Promise<void> {
  const deadline = Date.now() + wait.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const pause = (): Promise<void> =>
    new Promise((resolve) => {
      timer = setTimeout(resolve, wait.pollMs ?? 250);
    });
  try {
    for (;;) {
      const have = await rootKeysOf(database, workspaceId);
      const missing = ROOT_KEY_ALGORITHMS.filter((a) => !have.includes(a));
      if (missing.length === 0) return;
      const open = await database.db
        .selectFrom('mpc_sessions')
        .select('algorithm')
        .where('workspace_id', '=', workspaceId)
        .where('purpose', '=', 'KEYGEN')
        .where('status', '=', 'OPEN')
        .execute();
      const givenUp = missing.filter((a) => !open.some((s) => s.algorithm === a));
      if (givenUp.length > 0) {
        throw new Error(
          `KEYGEN of ${givenUp.join(' and ')} failed and the platform stopped retrying ` +
            '(see the co-signer messages above)',
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `KEYGEN of ${missing.join(' and ')} did not finish within ${Math.round(wait.timeoutMs / 1000)} s`,
        );
      }
      await (wait.abandoned ? Promise.race([pause(), wait.abandoned]) : pause());
    }
  } finally {
    clearTimeout(timer);
  }
}
