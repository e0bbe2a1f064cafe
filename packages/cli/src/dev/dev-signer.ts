/**
 * The dev workspace's Signer: the SIGNER API user "dev-signer" whose share sets the API co-signer
 * holds (ARCHITECTURE §3: a signer is an API user paired to a co-signer). Its RSA key and CSR are
 * written to <home>/dev/signer/. Nobody needs its key to sign a RAW message — the development
 * ADMIN creates transactions; the policy routes them to the signer — but it is kept for whoever
 * wants to call the API as the signer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlatformDatabase, PlatformServices, Principal } from '@countersign/platform';
import { writeKeyAndCsr } from '../commands/csr.js';
import { devDir } from '../dev-state.js';

export const DEV_SIGNER_NAME = 'dev-signer';

/**
 * The workspace's Owner as a principal. `countersign dev` owns the embedded database and acts
 * for the Owner in-process — the same power as whoever can open that database — to approve its
 * own co-signer's pairing; the Owner's password is never needed or kept for it.
 */
export async function devOwner(
  database: PlatformDatabase,
  workspaceId: string,
): Promise<Principal> {
  const owner = await database.db
    .selectFrom('console_users')
    .select(['id', 'email'])
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'OWNER')
    .where('enabled', '=', true)
    .executeTakeFirst();
  if (!owner) throw new Error(`workspace ${workspaceId} has no enabled Owner`);
  return { kind: 'console_user', id: owner.id, workspaceId, role: 'OWNER', name: owner.email };
}

/** The dev Signer's API key, created (with its key and CSR) on first use. */
export async function ensureDevSigner(
  services: PlatformServices,
  owner: Principal,
  home: string,
): Promise<string> {
  const existing = (await services.apiUsers.list(owner.workspaceId)).find(
    (u) => u.name === DEV_SIGNER_NAME,
  );
  if (existing) return existing.id;
  const keys = await writeKeyAndCsr({
    name: DEV_SIGNER_NAME,
    org: 'Countersign dev',
    out: join(devDir(home), 'signer'),
    // A key left by a run whose database was since removed belongs to no user: replace it.
    force: true,
  });
  const created = await services.apiUsers.create(owner, {
    name: DEV_SIGNER_NAME,
    role: 'SIGNER',
    csrPem: readFileSync(keys.csrPath, 'utf8'),
  });
  return created.user.id;
}
