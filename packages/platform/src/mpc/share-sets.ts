/**
 * The share sets of a workspace's root key (ARCHITECTURE §3, §8): one per signer, each held by
 * cloud-1, cloud-2 and the signer's co-signer. A share set is *live* while its signer is still
 * paired to that co-signer, its destruction was never asked (share-set-destruction.ts: not even
 * if the same API user and co-signer are paired again) and every party is a live co-signer; a live share set is *available*
 * while its co-signer is seen polling (its `lastSeen`, written at most every 15 s by each
 * authenticated call while it long-polls every 25 s) and — for signing — has not said it stopped
 * (a daemon's clean stop, `POST /cosigner/v1/offline`, until it polls for work again). Signing
 * picks the first available signer,
 * a reshare the first available existing signer as its third dealer; both fall back to the
 * others.
 */
import type { Insertable, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SessionParty } from './mpc-session-service.js';

/** Party indices fixed by role: the cloud co-signers' Shamir evaluation points. */
export const CLOUD_1 = 1;
export const CLOUD_2 = 2;
/** The first signer's index (KEYGEN); later signers take the next index free in the workspace. */
export const FIRST_SIGNER = 3;

/** A co-signer seen this recently holds an open poll (or works on a session). */
export const AVAILABLE_WITHIN_MS = 60_000;

export interface LiveShareSet {
  readonly shareSetId: string;
  readonly apiUserId: string;
  readonly cosignerId: string;
  readonly signerIndex: number;
  /** Hex of the public share set; null for a share set made before it was recorded. */
  readonly publicShareSet: string | null;
  /** cloud-1, cloud-2 and the signer's co-signer, by index. */
  readonly parties: SessionParty[];
  /** The parties' co-signers that are Cloud Co-signers (mode CLOUD), by index. */
  readonly cloudCosignerIds: string[];
  readonly available: boolean;
}

/** Records a share set the parties of `sessionId` made for `apiUserId`'s pairing. */
export async function recordShareSet(
  trx: Transaction<Database>,
  row: Insertable<Database['share_sets']>,
): Promise<void> {
  await trx
    .insertInto('share_sets')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * The live share sets of a root key, available ones first, each group in pairing order (the
 * order of `cosigner_api_keys.seq`: the first signer first).
 */
export async function liveShareSets(
  trx: Transaction<Database>,
  workspaceId: string,
  algorithm: string,
  now: Date,
  /**
   * Whether a co-signer's announced clean stop makes it unavailable: yes for signing (another
   * signer signs at once), no for choosing a reshare's dealer — a dealer's refusal is final for
   * the pairing, so a quick restart of the preferred guard must not hand its choice to another.
   */
  { honourStops }: { honourStops: boolean },
): Promise<LiveShareSet[]> {
  const rows = await trx
    .selectFrom('share_sets as s')
    .innerJoin('cosigner_api_keys as k', (join) =>
      join
        .onRef('k.api_user_id', '=', 's.api_user_id')
        .onRef('k.cosigner_id', '=', 's.cosigner_id'),
    )
    .innerJoin('cosigners as c', 'c.id', 's.cosigner_id')
    // Share sets of the workspace's root key only (none while it has no root key).
    .innerJoin('root_keys as r', (join) =>
      join.onRef('r.workspace_id', '=', 's.workspace_id').onRef('r.algorithm', '=', 's.algorithm'),
    )
    .select([
      's.id',
      's.api_user_id',
      's.cosigner_id',
      's.session_id',
      's.signer_index',
      's.public_share_set',
      'c.last_seen_at',
      'c.offline_at',
    ])
    .where('s.workspace_id', '=', workspaceId)
    .where('s.algorithm', '=', algorithm)
    .where('k.status', '=', 'PAIRED')
    .where('s.destruction_requested_at', 'is', null)
    .where('c.archived', '=', false)
    .orderBy('k.seq')
    .orderBy('s.created_at')
    .execute();
  const live: LiveShareSet[] = [];
  for (const row of rows) {
    const indices = [CLOUD_1, CLOUD_2, row.signer_index];
    const parties = await trx
      .selectFrom('mpc_session_parties as p')
      .innerJoin('cosigners as c', 'c.id', 'p.cosigner_id')
      .select(['p.party_index', 'p.cosigner_id', 'c.archived', 'c.mode'])
      .where('p.session_id', '=', row.session_id)
      .where('p.party_index', 'in', indices)
      .orderBy('p.party_index')
      .execute();
    const whole =
      parties.length === indices.length &&
      parties.every(
        (p) =>
          !p.archived &&
          (p.party_index === row.signer_index
            ? p.cosigner_id === row.cosigner_id
            : p.mode === 'CLOUD'),
      );
    if (!whole) continue;
    const seen = row.last_seen_at?.getTime();
    live.push({
      shareSetId: row.id,
      apiUserId: row.api_user_id,
      cosignerId: row.cosigner_id,
      signerIndex: row.signer_index,
      publicShareSet: row.public_share_set,
      parties: parties.map((p) => ({ index: p.party_index, cosignerId: p.cosigner_id })),
      cloudCosignerIds: parties.filter((p) => p.mode === 'CLOUD').map((p) => p.cosigner_id),
      // A co-signer that said it stopped is not available until it polls for work again.
      available:
        (!honourStops || row.offline_at === null) &&
        seen !== undefined &&
        now.getTime() - seen <= AVAILABLE_WITHIN_MS,
    });
  }
  // Stable: pairing order within each group.
  return [...live.filter((s) => s.available), ...live.filter((s) => !s.available)];
}

/**
 * The party index a new signer of the workspace takes for `algorithm`: above every index any of
 * its sessions used, so it is no dealer's index and never one an earlier share set had.
 */
export async function nextSignerIndex(
  trx: Transaction<Database>,
  workspaceId: string,
  algorithm: string,
): Promise<number> {
  const row = await trx
    .selectFrom('mpc_session_parties as p')
    .innerJoin('mpc_sessions as s', 's.id', 'p.session_id')
    .select((eb) => eb.fn.max('p.party_index').as('top'))
    .where('s.workspace_id', '=', workspaceId)
    .where('s.algorithm', '=', algorithm)
    .executeTakeFirst();
  const top = row?.top === null || row?.top === undefined ? 0 : Number(row.top);
  return Math.max(top, FIRST_SIGNER) + 1;
}

/**
 * The algorithms whose root key `pairing` alone still holds: every live share set of it is the
 * pairing's (and there is one). Each share set is a whole 3-of-3 sharing and a new one can only
 * be dealt from a complete one, so ending that pairing — its share sets marked and destroyed by
 * the clouds — loses the root key for good (sandbox/destroy review H1).
 */
export async function rootKeysHeldOnlyBy(
  trx: Transaction<Database>,
  workspaceId: string,
  pairing: { apiUserId: string; cosignerId: string },
  now: Date,
): Promise<string[]> {
  const roots = await trx
    .selectFrom('root_keys')
    .select('algorithm')
    .where('workspace_id', '=', workspaceId)
    .orderBy('algorithm')
    .execute();
  const lost: string[] = [];
  for (const { algorithm } of roots) {
    // Availability plays no part here: every live share set counts.
    const live = await liveShareSets(trx, workspaceId, algorithm, now, { honourStops: false });
    const mine = (s: LiveShareSet) =>
      s.apiUserId === pairing.apiUserId && s.cosignerId === pairing.cosignerId;
    if (live.length > 0 && live.every(mine)) lost.push(algorithm);
  }
  return lost;
}
