/** Which API users may be paired with a co-signer. */
import type { Transaction } from 'kysely';
import type { ApiUserRow } from '../api-users/api-user-repository.js';
import type { Database } from '../db/schema.js';

/** Roles whose API users hold MPC key shares (the docs: Signer or Admin). */
export const PAIRABLE_ROLES: readonly string[] = ['SIGNER', 'ADMIN'];

/** Only a ready, enabled SIGNER or ADMIN API user holds key shares, so only it may be paired. */
export function isPairable(user: ApiUserRow): boolean {
  return PAIRABLE_ROLES.includes(user.role) && user.status === 'READY' && user.enabled;
}

/** The API user, locked for the rest of the transaction (pairing decisions on it are serialised). */
export async function lockApiUser(
  trx: Transaction<Database>,
  id: string,
): Promise<ApiUserRow | undefined> {
  return trx
    .selectFrom('api_users')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}
