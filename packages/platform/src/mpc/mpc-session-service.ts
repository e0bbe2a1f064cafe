/**
 * MPC sessions and their message relay (ARCHITECTURE §5). The platform publishes each session's
 * roster signed with its authorization key and stores and forwards the parties' messages as
 * opaque bytes: it can drop or delay them but not read or forge them (the co-signers seal and
 * sign every payload, cosigner docs/channel.md). It enforces only what it can know: the sender
 * is the authenticated co-signer's roster seat, recipients are other seats, sizes are bounded,
 * and a session is over at its deadline.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  encodeRoster,
  MAX_MESSAGES_PER_ANSWER,
  MAX_RELAY_MESSAGE_BYTES,
  type JobType,
  type MessagesResponse,
  type PostMessagesRequest,
  type RosterPurpose,
  type SessionResponse,
} from '@countersign/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, MpcSessionStatus } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { PlatformAuthorizationKey } from './authorization-key.js';
import { messageRefused, notSessionParty, sessionClosed } from './relay-errors.js';
import { sessionKey, workKey, type RelayNotifier } from './relay-notifier.js';

/** Beyond this many messages a session is misbehaving (a 3-party DKG sends a few dozen). */
export const MAX_MESSAGES_PER_SESSION = 2048;
/**
 * A party's message post or read renews its lease at most this often (per instance): a lease
 * runs 60 s, and a party posts and reads a session several times a second while it signs.
 */
export const READ_RENEWAL_GRANULARITY_MS = 10_000;
/** Rosters and renewal times kept in memory; past this they are forgotten and looked up again. */
const MAX_REMEMBERED = 4096;

export interface SessionParty {
  index: number;
  cosignerId: string;
}

export interface NewSession {
  workspaceId: string;
  apiUserId: string;
  purpose: RosterPurpose;
  algorithm: string;
  shareSetId: string;
  threshold: number;
  parties: SessionParty[];
  ttlMs: number;
  /**
   * SIGN sessions: the canonical signing authorization for this session's sid and deadline
   * (countersign/signing-authorization/v2); RESHARE sessions: the reshare authorization
   * (countersign/reshare-authorization/v1); DESTROY sessions: the destroy authorization
   * (countersign/destroy-authorization/v1). The platform signs it with its authorization key.
   */
  authorization?: (sessionId: Uint8Array, expiresAt: number) => Uint8Array;
  /** RESHARE sessions: the existing signer whose share set is re-dealt. */
  dealerApiUserId?: string;
  /** Background work: the parties are offered their jobs only this long after creation. */
  offerAfterMs?: number;
  /**
   * Co-signers whose jobs are held until every other party's job is DONE or said it is ready
   * ({@link HELD_UNTIL}): a pooled EdDSA signing's Cloud Co-signers release their shares only
   * once the signer's co-signer can no longer fail to release its own (docs/decisions/0006).
   */
  heldParties?: readonly string[];
}

/**
 * `available_at` of a held job: offered only once the session's other jobs are DONE or ready
 * (then set to that moment). Far beyond any real date, so no lease query offers it before.
 */
export const HELD_UNTIL = new Date('9999-01-01T00:00:00.000Z');

/** The job each party of a session gets: the session's purpose, for the purposes that run. */
function jobTypeOf(purpose: RosterPurpose): JobType {
  if (purpose !== 'REFRESH') return purpose;
  throw new Error(`no job runs ${purpose} sessions yet`);
}

export class MpcSessionService {
  /**
   * Each known session's seats: co-signer → party index. A session's seats are written with it
   * and never change (nor are sessions deleted), and every relay call checks the caller's and a
   * post its recipients': kept, a call saves a query or two. An unknown session is looked up
   * every time.
   */
  private readonly rosters = new Map<string, ReadonlyMap<string, number>>();
  /** When this instance last renewed a party's lease on a session (clock ms). */
  private readonly leaseRenewals = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly authorizationKey: PlatformAuthorizationKey,
    private readonly notifier: RelayNotifier,
    private readonly clock: Clock,
    private readonly leaseMs: number,
  ) {}

  /**
   * Creates a session, its signed roster and one job per party, inside `trx`. The parties'
   * identity keys come from their registration, never from a request.
   */
  async create(trx: Transaction<Database>, spec: NewSession): Promise<string> {
    const now = this.clock();
    const jobType = jobTypeOf(spec.purpose);
    const sessionId = randomBytes(32).toString('hex');
    const expiresAt = new Date(now.getTime() + spec.ttlMs);
    const cosigners = await trx
      .selectFrom('cosigners')
      .select(['id', 'identity_ed25519', 'identity_x25519', 'archived'])
      .where(
        'id',
        'in',
        spec.parties.map((p) => p.cosignerId),
      )
      .execute();
    const byId = new Map(cosigners.map((c) => [c.id, c]));
    const roster = encodeRoster({
      sessionId: Buffer.from(sessionId, 'hex'),
      shareSetId: spec.shareSetId,
      purpose: spec.purpose,
      expiresAt: expiresAt.getTime(),
      parties: spec.parties.map((p) => {
        const c = byId.get(p.cosignerId);
        if (!c || c.archived) throw new Error('session party is not a live co-signer');
        return {
          index: p.index,
          cosignerId: p.cosignerId,
          identityKey: Buffer.from(c.identity_ed25519, 'hex'),
          agreementKey: Buffer.from(c.identity_x25519, 'hex'),
        };
      }),
    });
    const signature = await this.authorizationKey.sign(roster, trx);
    let signedAuthorization: string | null = null;
    if (spec.authorization) {
      const bytes = spec.authorization(Buffer.from(sessionId, 'hex'), expiresAt.getTime());
      const authSignature = await this.authorizationKey.sign(bytes, trx);
      signedAuthorization = Buffer.concat([bytes, authSignature]).toString('base64');
    }
    await trx
      .insertInto('mpc_sessions')
      .values({
        id: sessionId,
        workspace_id: spec.workspaceId,
        api_user_id: spec.apiUserId,
        purpose: spec.purpose,
        algorithm: spec.algorithm,
        share_set_id: spec.shareSetId,
        threshold: spec.threshold,
        signed_roster: Buffer.concat([roster, signature]).toString('base64'),
        signed_authorization: signedAuthorization,
        dealer_api_user_id: spec.dealerApiUserId ?? null,
        status: 'OPEN',
        failure_reason: null,
        expires_at: expiresAt,
        created_at: now,
      })
      .execute();
    // One statement per table, not per party: a signing's sessions are on its hot path.
    await trx
      .insertInto('mpc_session_parties')
      .values(
        spec.parties.map((p) => ({
          session_id: sessionId,
          party_index: p.index,
          cosigner_id: p.cosignerId,
        })),
      )
      .execute();
    await trx
      .insertInto('cosigner_jobs')
      .values(
        spec.parties.map((p) => ({
          id: randomUUID(),
          cosigner_id: p.cosignerId,
          type: jobType,
          session_id: sessionId,
          status: 'PENDING' as const,
          lease_id: null,
          lease_expires_at: null,
          result: null,
          failure_reason: null,
          created_at: now,
          available_at: spec.heldParties?.includes(p.cosignerId)
            ? HELD_UNTIL
            : new Date(now.getTime() + (spec.offerAfterMs ?? 0)),
          updated_at: now,
        })),
      )
      .execute();
    return sessionId;
  }

  /**
   * Wakes the parties' long polls once `create`'s transaction has committed: one poll per job
   * (a co-signer with n new jobs is named n times).
   */
  announce(cosignerIds: readonly string[]): void {
    for (const id of cosignerIds) this.notifier.notifyOne(workKey(id));
  }

  /**
   * {@link announce} once `ms` have passed: for jobs offered that much later
   * ({@link NewSession.offerAfterMs}), which a poll would otherwise find only at its re-check,
   * or when a new signing's wake-up comes (and leases them first, ahead of that signing's own
   * job). Called as they are created, before their transaction commits: by then it has, or the
   * poll woken finds nothing and the re-check still finds them.
   */
  announceAfter(cosignerIds: readonly string[], ms: number): void {
    setTimeout(() => this.announce(cosignerIds), ms).unref();
  }

  /** The caller's seat in the session: 404 for an unknown session, 403 for a non-member. */
  async seatOf(sessionId: string, cosignerId: string): Promise<number> {
    const seat = (await this.rosterOf(sessionId)).get(cosignerId);
    if (seat === undefined) throw notSessionParty();
    return seat;
  }

  /** The session's seats (one query the first time): 404 for an unknown session. */
  private async rosterOf(sessionId: string): Promise<ReadonlyMap<string, number>> {
    const known = this.rosters.get(sessionId);
    if (known !== undefined) return known;
    const rows = await this.db
      .selectFrom('mpc_sessions as s')
      .leftJoin('mpc_session_parties as p', 'p.session_id', 's.id')
      .select(['p.cosigner_id', 'p.party_index'])
      .where('s.id', '=', sessionId)
      .execute();
    if (rows.length === 0) throw new NotFoundError('Session');
    const roster = new Map<string, number>();
    for (const r of rows)
      if (r.cosigner_id !== null && r.party_index !== null)
        roster.set(r.cosigner_id, r.party_index);
    if (this.rosters.size >= MAX_REMEMBERED) this.rosters.clear();
    this.rosters.set(sessionId, roster);
    return roster;
  }

  async get(sessionId: string, cosignerId: string): Promise<SessionResponse> {
    await this.seatOf(sessionId, cosignerId);
    const row = await this.db
      .selectFrom('mpc_sessions')
      .select(['id', 'status', 'signed_roster', 'signed_authorization', 'expires_at'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    return publishedSession(row, this.clock());
  }

  /** Stores the caller's messages, all or none. */
  async post(sessionId: string, cosignerId: string, body: PostMessagesRequest): Promise<number> {
    const roster = await this.rosterOf(sessionId);
    const from = roster.get(cosignerId);
    if (from === undefined) throw notSessionParty();
    const indices = new Set(roster.values());
    for (const m of body.messages) {
      if (m.to !== null && (m.to === from || !indices.has(m.to)))
        throw messageRefused('to must be another party of the roster, or null for a broadcast');
    }
    const payloads = body.messages.map((m) => decodePayload(m.payload));
    const renew = this.renewalDue(sessionId, cosignerId);
    await this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      // Locks the session row: the message cap and the status hold for the whole insert.
      const session = await trx
        .selectFrom('mpc_sessions')
        .select(['status', 'expires_at'])
        .where('id', '=', sessionId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const status = this.effectiveStatus(session.status, session.expires_at);
      if (status !== 'OPEN') throw sessionClosed(status);
      const count = await trx
        .selectFrom('mpc_messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('session_id', '=', sessionId)
        .executeTakeFirstOrThrow();
      if (Number(count.n) + body.messages.length > MAX_MESSAGES_PER_SESSION)
        throw messageRefused('the session has reached its message cap');
      await trx
        .insertInto('mpc_messages')
        .values(
          body.messages.map((m, i) => ({
            session_id: sessionId,
            from_index: from,
            to_index: m.to,
            round: m.round,
            payload: payloads[i]!,
            created_at: now,
          })),
        )
        .execute();
      if (renew !== undefined) await this.renewLeases(trx, sessionId, cosignerId);
    });
    if (renew !== undefined) this.leaseRenewed(sessionId, cosignerId, renew);
    this.notifier.notify(sessionKey(sessionId));
    return body.messages.length;
  }

  /** Messages after `after` addressed to the caller or broadcast by another party. */
  async read(
    sessionId: string,
    cosignerId: string,
    after: number,
    waitMs: number,
  ): Promise<MessagesResponse> {
    const me = await this.seatOf(sessionId, cosignerId);
    const renew = this.renewalDue(sessionId, cosignerId);
    if (renew !== undefined) {
      await this.renewLeases(this.db, sessionId, cosignerId);
      this.leaseRenewed(sessionId, cosignerId, renew);
    }
    const fetch = async (): Promise<MessagesResponse | undefined> => {
      // One query: the session's status beside each message (or one row of nulls if none).
      const rows = await this.db
        .selectFrom('mpc_sessions as s')
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom('mpc_messages')
              .select(['seq', 'from_index', 'to_index', 'round', 'payload'])
              .whereRef('session_id', '=', 's.id')
              .where('seq', '>', String(after))
              .where('from_index', '<>', me)
              .where((w) => w.or([w('to_index', 'is', null), w('to_index', '=', me)]))
              .orderBy('seq')
              .limit(MAX_MESSAGES_PER_ANSWER)
              .as('m'),
          (join) => join.onTrue(),
        )
        .select([
          's.status',
          's.expires_at',
          'm.seq',
          'm.from_index',
          'm.to_index',
          'm.round',
          'm.payload',
        ])
        .where('s.id', '=', sessionId)
        .orderBy('m.seq')
        .execute();
      const session = rows[0];
      if (session === undefined) throw new NotFoundError('Session');
      const messages = rows.flatMap((r) =>
        r.seq === null || r.from_index === null || r.round === null || r.payload === null
          ? []
          : [
              {
                seq: Number(r.seq),
                from: r.from_index,
                to: r.to_index,
                round: r.round,
                payload: Buffer.from(r.payload).toString('base64'),
              },
            ],
      );
      const sessionStatus = this.effectiveStatus(session.status, session.expires_at);
      if (messages.length === 0 && sessionStatus === 'OPEN') return undefined;
      return {
        messages,
        next: messages.length === 0 ? after : messages[messages.length - 1]!.seq,
        sessionStatus,
      };
    };
    const found = await this.notifier.poll(sessionKey(sessionId), waitMs, fetch);
    return found ?? { messages: [], next: after, sessionStatus: 'OPEN' };
  }

  /**
   * A session still OPEN past its deadline is over for every purpose; the sweeper records it.
   */
  private effectiveStatus(status: MpcSessionStatus, expiresAt: Date): MpcSessionStatus {
    return effectiveStatus(status, expiresAt, this.clock());
  }

  /**
   * The time to record if a post or read should renew the party's lease now: unless this
   * instance did so within READ_RENEWAL_GRANULARITY_MS (or a sixth of a shorter lease), when the
   * lease still has most of its 60 s and the renewal would cost a query on every call of a
   * signing.
   */
  private renewalDue(sessionId: string, cosignerId: string): number | undefined {
    const now = this.clock().getTime();
    const last = this.leaseRenewals.get(`${sessionId}/${cosignerId}`);
    // A short lease (tests) is renewed at least six times over its length.
    const granularity = Math.min(READ_RENEWAL_GRANULARITY_MS, this.leaseMs / 6);
    if (last !== undefined && now - last < granularity && now >= last) return undefined;
    return now;
  }

  /** Records a committed renewal (see {@link renewalDue}). */
  private leaseRenewed(sessionId: string, cosignerId: string, at: number): void {
    if (this.leaseRenewals.size >= MAX_REMEMBERED) this.leaseRenewals.clear();
    this.leaseRenewals.set(`${sessionId}/${cosignerId}`, at);
  }

  /** A party working on the session keeps its job's lease alive (docs/mpc-relay.md). */
  private async renewLeases(
    /** The post's transaction, or the database for a read's single statement. */
    trx: Kysely<Database>,
    sessionId: string,
    cosignerId: string,
  ): Promise<void> {
    await trx
      .updateTable('cosigner_jobs')
      .set({ lease_expires_at: new Date(this.clock().getTime() + this.leaseMs) })
      .where('session_id', '=', sessionId)
      .where('cosigner_id', '=', cosignerId)
      .where('status', '=', 'LEASED')
      .where('lease_expires_at', '>', this.clock())
      .execute();
  }
}

/** A session still OPEN past its deadline is over, whether or not the sweeper recorded it yet. */
export function effectiveStatus(
  status: MpcSessionStatus,
  expiresAt: Date,
  now: Date,
): MpcSessionStatus {
  return status === 'OPEN' && now.getTime() >= expiresAt.getTime() ? 'EXPIRED' : status;
}

/** A session row as its parties see it: GET /cosigner/v1/sessions/{id}, and in a lease. */
export function publishedSession(
  row: {
    id: string;
    status: MpcSessionStatus;
    signed_roster: string;
    signed_authorization: string | null;
    expires_at: Date;
  },
  now: Date,
): SessionResponse {
  return {
    sessionId: row.id,
    status: effectiveStatus(row.status, row.expires_at, now),
    signedRoster: row.signed_roster,
    ...(row.signed_authorization === null ? {} : { signedAuthorization: row.signed_authorization }),
    expiresAt: row.expires_at.getTime(),
  };
}

/** Strict base64: canonical (re-encodes to itself), non-empty and within the size bound. */
function decodePayload(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (
    bytes.length === 0 ||
    bytes.length > MAX_RELAY_MESSAGE_BYTES ||
    bytes.toString('base64') !== text
  )
    throw messageRefused('payload must be canonical base64 of 1 to 2 MiB');
  return bytes;
}
