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
 * A message read renews the reader's lease at most this often (per instance): a lease runs 60 s,
 * and a party reads a session several times a second while it signs.
 */
export const READ_RENEWAL_GRANULARITY_MS = 10_000;
/** Seats and renewal times kept in memory; past this they are forgotten and looked up again. */
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
   * (countersign/signing-authorization/v1); RESHARE sessions: the reshare authorization
   * (countersign/reshare-authorization/v1); DESTROY sessions: the destroy authorization
   * (countersign/destroy-authorization/v1). The platform signs it with its authorization key.
   */
  authorization?: (sessionId: Uint8Array, expiresAt: number) => Uint8Array;
  /** RESHARE sessions: the existing signer whose share set is re-dealt. */
  dealerApiUserId?: string;
}

/** The job each party of a session gets: the session's purpose, for the purposes that run. */
function jobTypeOf(purpose: RosterPurpose): JobType {
  if (purpose === 'KEYGEN' || purpose === 'RESHARE' || purpose === 'SIGN' || purpose === 'DESTROY')
    return purpose;
  throw new Error(`no job runs ${purpose} sessions yet`);
}

export class MpcSessionService {
  /**
   * Seats found, by session and co-signer. A session's seats are written with it and never
   * change (nor are sessions deleted), and every relay call checks the caller's: kept, a call
   * saves two queries. A miss (unknown session, not a party) is looked up every time.
   */
  private readonly seats = new Map<string, number>();
  /** When this instance last renewed a reader's lease on a session (clock ms). */
  private readonly readRenewals = new Map<string, number>();

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
    for (const p of spec.parties) {
      await trx
        .insertInto('mpc_session_parties')
        .values({ session_id: sessionId, party_index: p.index, cosigner_id: p.cosignerId })
        .execute();
      await trx
        .insertInto('cosigner_jobs')
        .values({
          id: randomUUID(),
          cosigner_id: p.cosignerId,
          type: jobType,
          session_id: sessionId,
          status: 'PENDING',
          lease_id: null,
          lease_expires_at: null,
          result: null,
          failure_reason: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
    return sessionId;
  }

  /** Wakes the parties' long polls once `create`'s transaction has committed. */
  announce(cosignerIds: readonly string[]): void {
    for (const id of cosignerIds) this.notifier.notify(workKey(id));
  }

  /** The caller's seat in the session: 404 for an unknown session, 403 for a non-member. */
  async seatOf(sessionId: string, cosignerId: string): Promise<number> {
    const key = `${sessionId}/${cosignerId}`;
    const known = this.seats.get(key);
    if (known !== undefined) return known;
    const session = await this.db
      .selectFrom('mpc_sessions')
      .select('id')
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!session) throw new NotFoundError('Session');
    const seat = await this.db
      .selectFrom('mpc_session_parties')
      .select('party_index')
      .where('session_id', '=', sessionId)
      .where('cosigner_id', '=', cosignerId)
      .executeTakeFirst();
    if (!seat) throw notSessionParty();
    if (this.seats.size >= MAX_REMEMBERED) this.seats.clear();
    this.seats.set(key, seat.party_index);
    return seat.party_index;
  }

  async get(sessionId: string, cosignerId: string): Promise<SessionResponse> {
    await this.seatOf(sessionId, cosignerId);
    const row = await this.db
      .selectFrom('mpc_sessions')
      .select(['id', 'status', 'signed_roster', 'signed_authorization', 'expires_at'])
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    return {
      sessionId: row.id,
      status: this.effectiveStatus(row.status, row.expires_at),
      signedRoster: row.signed_roster,
      ...(row.signed_authorization === null
        ? {}
        : { signedAuthorization: row.signed_authorization }),
      expiresAt: row.expires_at.getTime(),
    };
  }

  /** Stores the caller's messages, all or none. */
  async post(sessionId: string, cosignerId: string, body: PostMessagesRequest): Promise<number> {
    const from = await this.seatOf(sessionId, cosignerId);
    const payloads = body.messages.map((m) => decodePayload(m.payload));
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
      const seats = await trx
        .selectFrom('mpc_session_parties')
        .select('party_index')
        .where('session_id', '=', sessionId)
        .execute();
      const indices = new Set(seats.map((s) => s.party_index));
      for (const m of body.messages) {
        if (m.to !== null && (m.to === from || !indices.has(m.to)))
          throw messageRefused('to must be another party of the roster, or null for a broadcast');
      }
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
      await this.renewLeases(trx, sessionId, cosignerId);
    });
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
    await this.renewOnRead(sessionId, cosignerId);
    const fetch = async (): Promise<MessagesResponse | undefined> => {
      const session = await this.db
        .selectFrom('mpc_sessions')
        .select(['status', 'expires_at'])
        .where('id', '=', sessionId)
        .executeTakeFirstOrThrow();
      const rows = await this.db
        .selectFrom('mpc_messages')
        .select(['seq', 'from_index', 'to_index', 'round', 'payload'])
        .where('session_id', '=', sessionId)
        .where('seq', '>', String(after))
        .where('from_index', '<>', me)
        .where((eb) => eb.or([eb('to_index', 'is', null), eb('to_index', '=', me)]))
        .orderBy('seq')
        .limit(MAX_MESSAGES_PER_ANSWER)
        .execute();
      const sessionStatus = this.effectiveStatus(session.status, session.expires_at);
      if (rows.length === 0 && sessionStatus === 'OPEN') return undefined;
      return {
        messages: rows.map((r) => ({
          seq: Number(r.seq),
          from: r.from_index,
          to: r.to_index,
          round: r.round,
          payload: Buffer.from(r.payload).toString('base64'),
        })),
        next: rows.length === 0 ? after : Number(rows[rows.length - 1]!.seq),
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
    return status === 'OPEN' && this.clock().getTime() >= expiresAt.getTime() ? 'EXPIRED' : status;
  }

  /**
   * A read renews the reader's lease unless this instance did so within
   * READ_RENEWAL_GRANULARITY_MS: the lease then still has most of its 60 s, and the renewal
   * would cost a transaction of its own on every read of a signing.
   */
  private async renewOnRead(sessionId: string, cosignerId: string): Promise<void> {
    const key = `${sessionId}/${cosignerId}`;
    const now = this.clock().getTime();
    const last = this.readRenewals.get(key);
    if (last !== undefined && now - last < READ_RENEWAL_GRANULARITY_MS && now >= last) return;
    await this.db.transaction().execute((trx) => this.renewLeases(trx, sessionId, cosignerId));
    if (this.readRenewals.size >= MAX_REMEMBERED) this.readRenewals.clear();
    this.readRenewals.set(key, now);
  }

  /** A party working on the session keeps its job's lease alive (docs/mpc-relay.md). */
  private async renewLeases(
    trx: Transaction<Database>,
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
