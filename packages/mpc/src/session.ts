/**
 * The transport-agnostic session framework shared by every protocol of this package (FROST
 * DKG, reshare, refresh and signing; DKLs23 later).
 *
 * A protocol is a {@link RoundProtocol}: a pure state machine that, for round r, says which
 * messages it expects (broadcast and/or point-to-point, from whom), validates each payload as
 * it arrives, and, once the round is complete, produces the messages of round r + 1 — or,
 * after the last round, its result. {@link Session} wraps it with everything protocols must
 * not get wrong on their own:
 *
 * - envelope checks: session id, protocol id, recipient, sender, round, message kind;
 * - at-least-once delivery: an identical redelivery is ignored; a *different* second message
 *   for the same (round, sender, kind) is equivocation and fails the session;
 * - messages of the next round that arrive early are buffered, anything else is refused;
 * - broadcast consistency: the broadcasts of the confirmation round carry the transcript echo
 *   (`transcript.ts`), checked before the protocol sees them;
 * - failure: the first protocol error is final (`status === 'failed'`), names the culprit when
 *   it can, and wipes the protocol's secrets; envelope-level refusals (wrong session, wrong
 *   round, unknown sender…) throw but leave the session running, so a relay that injects
 *   garbage cannot abort it;
 * - persistence: {@link Session.toBytes} / {@link Session.restore} to continue after a restart,
 *   and {@link Session.outgoing} to resend the last round's messages unchanged.
 *
 * The serialized state holds secrets (polynomials, received shares, key shares): seal it like a
 * key share and overwrite it in place. Randomness that must never be used twice (FROST signing
 * nonces) is never serialized: a signing session saved between its commitment and its
 * signature share cannot be restored (`ERR_MPC_NONCE_REUSE`) and is restarted with a fresh sid
 * (ARCHITECTURE.md §8). In memory, secrets are `#private` and sessions print only a public
 * summary (`util.inspect`, `JSON.stringify`).
 * @module
 */
import { ByteReader, ByteWriter, constantTimeEqual, u16be } from './bytes.js';
import { MpcError, isMpcError, isMpcErrorCode } from './errors.js';
import { sessionHasher } from './hash.js';
import {
  MAX_PAYLOAD_LENGTH,
  MAX_ROUND,
  assertProtocolId,
  assertSid,
  decodeMessage,
  encodeMessage,
  type ProtocolMessage,
  type Recipient,
} from './message.js';
import { assertPartyIndex, normalizeParties } from './party-set.js';
import { INSPECT, inspectSummary } from './redact.js';
import { ECHO_DIGEST_LENGTH, checkEcho, computeEcho } from './transcript.js';

/** Who takes part and who I am; fixed at creation. */
export interface SessionHeader {
  readonly protocol: string;
  readonly sid: Uint8Array;
  /** All parties of the session, sorted ascending. */
  readonly parties: readonly number[];
  readonly me: number;
}

/** A message a protocol wants to send, before the envelope is added. */
export interface Outgoing {
  readonly to: Recipient;
  readonly payload: Uint8Array;
}

/** Senders a party waits for in one round. */
export interface Expectation {
  readonly broadcastFrom: readonly number[];
  readonly p2pFrom: readonly number[];
}

/** The complete input of one round, handed to {@link RoundProtocol.advance}. */
export interface RoundMessages {
  readonly broadcast: ReadonlyMap<number, Uint8Array>;
  readonly p2p: ReadonlyMap<number, Uint8Array>;
}

/** A round-based protocol as seen by {@link Session}. */
export interface RoundProtocol<R> {
  /** Number of message rounds; after the messages of the last one arrive, the result is ready. */
  readonly rounds: number;
  /**
   * The round whose broadcasts carry the transcript echo over all earlier broadcasts (≥ 2,
   * usually the last). Every party broadcasts in it, and expects a broadcast from all others.
   */
  readonly confirmRound: number;
  /** What I must receive in `round` before advancing. */
  expect(round: number): Expectation;
  /** My messages of round 1. */
  start(): readonly Outgoing[];
  /** Validates one payload on arrival; throws an {@link MpcError} naming `from`. */
  checkPayload(round: number, kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void;
  /** Consumes the complete round; returns my messages of the next round (none after the last). */
  advance(round: number, input: RoundMessages): readonly Outgoing[];
  /** The result, once the last round was consumed. */
  result(): R | undefined;
  /** Protocol state (including the result), for {@link Session.toBytes}. */
  encodeState(): Uint8Array;
  /** Best-effort erasure of secrets; called on failure. */
  wipe(): void;
}

/** Restores a protocol from its header and {@link RoundProtocol.encodeState} bytes. */
export type ProtocolLoader<R> = (header: SessionHeader, state: Uint8Array) => RoundProtocol<R>;

/** Lifecycle of a session. */
export type SessionStatus = 'created' | 'running' | 'done' | 'failed';

// "CSS3": v3 adds the failure's evidence (below). "CSS2" (v2 added the error's suspects) is
// still read, as a failure without evidence; v1 states (which could hold FROST nonces) are
// refused.
const STATE_MAGIC = Uint8Array.of(0x43, 0x53, 0x53, 0x33);
const STATE_MAGIC_V2 = Uint8Array.of(0x43, 0x53, 0x53, 0x32);
/** Upper bound of a failure's evidence in session state. */
const MAX_EVIDENCE_LENGTH = 1024;

/**
 * An error that carries protocol-defined facts which must survive a restart together with the
 * failed session (e.g. DKLs23: which check failed and which OT setups were destroyed, so the
 * caller can still apply the ban after reloading the session). The framework stores the bytes
 * in the failed state (v3) and gives them back to the protocol's {@link FailureLoader}.
 */
export const FAILURE_EVIDENCE: unique symbol = Symbol.for('countersign.mpc.failureEvidence');

/** An {@link MpcError} with {@link FAILURE_EVIDENCE}. */
export interface ErrorWithEvidence extends MpcError {
  [FAILURE_EVIDENCE](): Uint8Array;
}

/**
 * Rebuilds a protocol's typed error from the restored code, culprit and suspects (`base`) and
 * its evidence bytes. Must validate the evidence as strictly as a message decoder, against
 * `header` and `base`, and throw `ERR_MPC_MALFORMED` on anything out of place.
 */
export type FailureLoader = (
  header: SessionHeader,
  base: MpcError,
  evidence: Uint8Array,
) => MpcError;

function evidenceOf(e: MpcError): Uint8Array {
  const f = (e as Partial<ErrorWithEvidence>)[FAILURE_EVIDENCE];
  if (typeof f !== 'function') return new Uint8Array(0);
  const bytes = f.call(e);
  if (bytes.length > MAX_EVIDENCE_LENGTH) throw new RangeError('failure evidence too long');
  return bytes;
}
const STATUS_CODES: readonly SessionStatus[] = ['created', 'running', 'done', 'failed'];
const MAX_STATE_ENTRIES = 4096;

type Kind = 'broadcast' | 'p2p';
interface InboxEntry {
  round: number;
  kind: Kind;
  from: number;
  payload: Uint8Array;
}

/** Validates a session header and returns a normalized copy. */
export function makeHeader(
  protocol: string,
  sid: Uint8Array,
  parties: unknown,
  me: unknown,
): SessionHeader {
  assertProtocolId(protocol);
  assertSid(sid);
  const sorted = normalizeParties(parties);
  if (sorted.length < 2)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'at least two parties' });
  assertPartyIndex(me, 'me');
  if (!sorted.includes(me))
    throw new MpcError('ERR_MPC_INVALID_PARTY', { culprit: me, detail: 'me not in parties' });
  return Object.freeze({ protocol, sid: sid.slice(), parties: Object.freeze(sorted), me });
}

/** A running protocol instance of one party. */
export class Session<R> {
  // Everything but the header is #private: the inbox holds received point-to-point shares and
  // the protocol holds polynomials, nonces and key shares. See {@link INSPECT} below.
  #status: SessionStatus = 'created';
  #round = 0;
  #failure: MpcError | undefined;
  readonly #seen = new Set<string>();
  #inbox: InboxEntry[] = [];
  readonly #broadcastLog = new Map<number, Map<number, Uint8Array>>();
  #outbox: ProtocolMessage[] = [];
  #pending: ProtocolMessage[] = [];
  readonly #protocol: RoundProtocol<R>;

  private constructor(
    readonly header: SessionHeader,
    protocol: RoundProtocol<R>,
  ) {
    this.#protocol = protocol;
  }

  /** Wraps a freshly created protocol. */
  static create<R>(header: SessionHeader, protocol: RoundProtocol<R>): Session<R> {
    if (protocol.confirmRound < 2 || protocol.confirmRound > protocol.rounds)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'confirmRound' });
    return new Session(header, protocol);
  }

  get protocolId(): string {
    return this.header.protocol;
  }
  get sid(): Uint8Array {
    return this.header.sid.slice();
  }
  get me(): number {
    return this.header.me;
  }
  get parties(): readonly number[] {
    return this.header.parties;
  }
  get status(): SessionStatus {
    return this.#status;
  }
  /** The round whose messages this party is collecting (0 before start). */
  get currentRound(): number {
    return this.#round;
  }
  /** The error that ended the session, if it failed. */
  get error(): MpcError | undefined {
    return this.#failure;
  }

  /** Starts the session and returns the round-1 messages. Idempotent. */
  start(): ProtocolMessage[] {
    this.assertUsable();
    if (this.#status === 'created') {
      this.#status = 'running';
      this.#round = 1;
      this.guard(() => {
        this.emit(1, this.#protocol.start());
        // Round-1 messages that arrived before start() are checked now.
        for (const e of this.#inbox) if (e.round === 1) this.check(e);
        this.pump();
      });
      return this.drain();
    }
    return this.outgoing();
  }

  /** The messages of the latest round this party produced, to resend after a restart. */
  outgoing(): ProtocolMessage[] {
    return this.#outbox.map((m) => ({ ...m, payload: m.payload.slice() }));
  }

  /**
   * Consumes one encoded message; returns the messages to send as a result (possibly none).
   * Throws an {@link MpcError}; check {@link Session.status} to tell a refused message
   * (still `running`) from a failed session (`failed`). Messages may arrive before
   * {@link Session.start}: they are buffered as round-1 input.
   *
   * Envelope-level refusals (wrong session, unknown sender, wrong recipient, wrong round,
   * unexpected kind) name nobody: the header is not authenticated at this layer, so they carry
   * the header's sender as `claimedSender`, never as `culprit`. Protocol failures name the
   * sender as `culprit`: the transport authenticates every envelope (ARCHITECTURE.md §5).
   */
  receive(bytes: Uint8Array): ProtocolMessage[] {
    this.assertUsable();
    const m = decodeMessage(bytes);
    const { header } = this;
    const claimedSender = m.from;
    if (m.protocol !== header.protocol || !sameBytes(m.sid, header.sid))
      throw new MpcError('ERR_MPC_WRONG_SESSION', { claimedSender });
    if (m.from === header.me || !header.parties.includes(m.from))
      throw new MpcError('ERR_MPC_INVALID_PARTY', {
        claimedSender,
        detail: 'sender not in session',
      });
    if (m.to !== 'broadcast' && m.to !== header.me)
      throw new MpcError('ERR_MPC_WRONG_RECIPIENT', { claimedSender });
    const digest = toKey(sessionHasher.hash('message', bytes));
    if (this.#seen.has(digest)) return []; // identical redelivery
    if (this.#status === 'done')
      throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'session finished' });
    if (m.round !== this.#round && m.round !== this.#round + 1)
      throw new MpcError('ERR_MPC_WRONG_ROUND', { claimedSender, detail: `round ${m.round}` });
    if (m.round > this.#protocol.rounds)
      throw new MpcError('ERR_MPC_WRONG_ROUND', { claimedSender, detail: `round ${m.round}` });
    const kind: Kind = m.to === 'broadcast' ? 'broadcast' : 'p2p';
    const expected = this.#protocol.expect(m.round);
    if (!(kind === 'broadcast' ? expected.broadcastFrom : expected.p2pFrom).includes(m.from))
      throw new MpcError('ERR_MPC_UNEXPECTED_MESSAGE', {
        claimedSender,
        detail: `${kind} in round ${m.round}`,
      });
    const existing = this.#inbox.find(
      (e) => e.round === m.round && e.kind === kind && e.from === m.from,
    );
    return this.guard(() => {
      // Same slot, different bytes: the (authenticated) sender said two things. Final.
      if (existing !== undefined)
        throw new MpcError('ERR_MPC_DUPLICATE_MESSAGE', { culprit: m.from });
      if (m.round === this.#round)
        this.check({ round: m.round, kind, from: m.from, payload: m.payload });
      this.#seen.add(digest);
      this.#inbox.push({ round: m.round, kind, from: m.from, payload: m.payload });
      this.pump();
      return this.drain();
    });
  }

  /** The result; throws `ERR_MPC_SESSION_STATE` unless the session is done. */
  result(): R {
    this.assertUsable();
    const r = this.#protocol.result();
    if (this.#status !== 'done' || r === undefined)
      throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'no result yet' });
    return r;
  }

  /** Serializes the whole session (secret!). */
  toBytes(): Uint8Array {
    const w = new ByteWriter().raw(STATE_MAGIC).ascii(this.header.protocol);
    w.u8(this.header.sid.length).raw(this.header.sid);
    w.u8(this.header.parties.length);
    for (const p of this.header.parties) w.u16(p);
    w.u16(this.header.me);
    w.u8(STATUS_CODES.indexOf(this.#status)).u8(this.#round);
    const failure = this.#failure;
    if (failure === undefined) w.u8(0);
    else {
      w.u8(1)
        .ascii(failure.code)
        .u16(failure.culprit ?? 0);
      const suspects = failure.suspects ?? [];
      w.u8(suspects.length);
      for (const p of suspects) w.u16(p);
      w.bytes(evidenceOf(failure));
    }
    w.u16(this.#seen.size);
    for (const d of this.#seen) w.raw(Buffer.from(d, 'hex'));
    w.u16(this.#inbox.length);
    for (const e of this.#inbox)
      w.u8(e.round)
        .u8(e.kind === 'broadcast' ? 0 : 1)
        .u16(e.from)
        .bytes(e.payload);
    const logEntries = [...this.#broadcastLog].flatMap(([round, m]) =>
      [...m].map(([from, p]) => ({ round, from, p })),
    );
    w.u16(logEntries.length);
    for (const e of logEntries) w.u8(e.round).u16(e.from).bytes(e.p);
    w.u16(this.#outbox.length);
    for (const m of this.#outbox) w.bytes(encodeMessage(m));
    w.bytes(this.#status === 'failed' ? new Uint8Array(0) : this.#protocol.encodeState());
    return w.finish();
  }

  /** Reads the protocol id of serialized session state, to choose a loader. */
  static peekProtocol(bytes: Uint8Array): string {
    const r = new ByteReader(bytes, 'session state');
    readVersion(r);
    return r.ascii();
  }

  /**
   * Reads the header and the failure (if the session failed) of serialized session state,
   * validated as {@link Session.restore} validates them, without loading the protocol: for
   * callers that must act on a failure (e.g. apply a ban) whatever the rest of the state holds.
   */
  static peekFailure(
    bytes: Uint8Array,
    failureLoader?: FailureLoader,
  ): { header: SessionHeader; failure: MpcError | undefined } {
    const r = new ByteReader(bytes, 'session state');
    const head = readHead(r, failureLoader);
    return { header: head.header, failure: head.failure };
  }

  /**
   * Restores a session serialized by {@link Session.toBytes}. Everything is re-validated as if
   * it came from outside: header, status and round, error code and evidence, every buffered
   * message (sender, round, kind expected by the protocol), the broadcast log and the outbox.
   * `failureLoader` rebuilds the protocol's typed error of a failed session from its evidence;
   * evidence without a loader is refused.
   */
  static restore<R>(
    bytes: Uint8Array,
    loader: ProtocolLoader<R>,
    failureLoader?: FailureLoader,
  ): Session<R> {
    const r = new ByteReader(bytes, 'session state');
    const { header, status, round, failure } = readHead(r, failureLoader);
    const { me } = header;
    const isMember = (p: number): boolean => p !== me && header.parties.includes(p);
    const seen = readCount(r);
    const seenKeys: string[] = [];
    for (let i = 0; i < seen; i++) seenKeys.push(toKey(r.take(32)));
    const inbox: InboxEntry[] = [];
    for (let i = readCount(r); i > 0; i--) {
      const entryRound = r.u8();
      const kind = r.u8();
      if (kind > 1) r.fail('kind');
      const from = r.u16();
      if (!isMember(from)) r.fail('inbox sender');
      inbox.push({
        round: entryRound,
        kind: kind === 0 ? 'broadcast' : 'p2p',
        from,
        payload: r.bytes(MAX_PAYLOAD_LENGTH),
      });
    }
    const log: { round: number; from: number; payload: Uint8Array }[] = [];
    for (let i = readCount(r); i > 0; i--) {
      const entry = { round: r.u8(), from: r.u16(), payload: r.bytes(MAX_PAYLOAD_LENGTH) };
      if (!header.parties.includes(entry.from)) r.fail('broadcast log sender');
      if (entry.round < 1 || log.some((e) => e.round === entry.round && e.from === entry.from))
        r.fail('broadcast log entry');
      log.push(entry);
    }
    const outbox: ProtocolMessage[] = [];
    for (let i = readCount(r); i > 0; i--)
      outbox.push(decodeMessage(r.bytes(MAX_PAYLOAD_LENGTH + 256)));
    const protocolState = r.bytes(MAX_PAYLOAD_LENGTH * 16);
    r.end();
    const impl = status === 'failed' ? failedProtocol<R>() : loader(header, protocolState);
    // Status and round agree with the protocol: created = 0, running = 1..rounds, done = rounds.
    const roundOk =
      status === 'created'
        ? round === 0
        : status === 'running'
          ? round >= 1 && round <= impl.rounds
          : status === 'done'
            ? round === impl.rounds
            : round <= MAX_ROUND;
    if (!roundOk) r.fail('round');
    if (status === 'done' || status === 'failed') {
      if (inbox.length !== 0) r.fail('inbox of a finished session');
    }
    // Buffered messages: this round's or the next one's, from a sender the protocol expects,
    // at most one per (round, kind, sender) — exactly what receive() admits.
    for (const e of inbox) {
      if ((e.round !== round && e.round !== round + 1) || e.round > impl.rounds)
        r.fail('inbox round');
      const expected = impl.expect(e.round);
      if (!(e.kind === 'broadcast' ? expected.broadcastFrom : expected.p2pFrom).includes(e.from))
        r.fail('inbox sender not expected');
      if (
        inbox.some((o) => o !== e && o.round === e.round && o.kind === e.kind && o.from === e.from)
      )
        r.fail('inbox duplicate');
    }
    for (const e of log)
      if (status !== 'failed' && e.round > impl.rounds) r.fail('broadcast log round');
    for (const m of outbox)
      if (
        m.protocol !== header.protocol ||
        !sameBytes(m.sid, header.sid) ||
        m.from !== me ||
        m.round !== round ||
        (m.to !== 'broadcast' && !isMember(m.to))
      )
        r.fail('outbox message');
    const s = new Session(header, impl);
    s.#status = status;
    s.#round = round;
    s.#failure = failure;
    for (const k of seenKeys) s.#seen.add(k);
    s.#inbox = inbox;
    for (const e of log) s.logBroadcast(e.round, e.from, e.payload);
    s.#outbox = outbox;
    return s;
  }

  /** Public summary only; never the inbox, the protocol state or the outbox payloads. */
  toJSON(): Record<string, unknown> {
    const f = this.#failure;
    return {
      protocol: this.header.protocol,
      sid: toKey(this.header.sid),
      parties: [...this.header.parties],
      me: this.header.me,
      status: this.#status,
      round: this.#round,
      error:
        f === undefined
          ? undefined
          : { code: f.code, culprit: f.culprit, suspects: f.suspects && [...f.suspects] },
    };
  }

  /** `util.inspect` / `console.log` show the public summary of {@link Session.toJSON}. */
  [INSPECT](
    _depth: number,
    options: unknown,
    inspect?: (v: unknown, o?: unknown) => string,
  ): string {
    return inspectSummary('Session', this.toJSON(), options, inspect);
  }

  private assertUsable(): void {
    if (this.#status === 'failed') throw this.#failure ?? new MpcError('ERR_MPC_SESSION_STATE');
  }

  /** Runs `f`; any error makes the session fail (final) and is rethrown as an MpcError. */
  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      const err = isMpcError(e)
        ? e
        : new MpcError('ERR_MPC_SESSION_STATE', { detail: 'internal error', cause: e });
      this.#status = 'failed';
      this.#failure = err;
      this.#inbox = [];
      this.#outbox = [];
      this.#pending = [];
      this.#protocol.wipe();
      throw err;
    }
  }

  private drain(): ProtocolMessage[] {
    const out = this.#pending;
    this.#pending = [];
    return out.map((m) => ({ ...m, payload: m.payload.slice() }));
  }

  /** Validates one entry of the current round (echo first in the confirmation round). */
  private check(e: InboxEntry): void {
    const payload = this.stripEcho(e);
    this.#protocol.checkPayload(e.round, e.kind, e.from, payload);
  }

  private stripEcho(e: InboxEntry): Uint8Array {
    if (e.round !== this.#protocol.confirmRound || e.kind !== 'broadcast') return e.payload;
    const { header } = this;
    const echoLength = header.parties.length * ECHO_DIGEST_LENGTH;
    if (e.payload.length < echoLength)
      throw new MpcError('ERR_MPC_MALFORMED', { culprit: e.from, detail: 'echo' });
    const mine = computeEcho(
      header.protocol,
      header.sid,
      header.parties,
      this.#broadcastLog,
      e.round,
    );
    checkEcho(header.parties, header.me, e.from, mine, e.payload.subarray(0, echoLength));
    return e.payload.subarray(echoLength);
  }

  /** Advances as long as the current round is complete. */
  private pump(): void {
    for (;;) {
      if (this.#status !== 'running') return;
      const round = this.#round;
      const expected = this.#protocol.expect(round);
      const current = this.#inbox.filter((e) => e.round === round);
      const complete =
        expected.broadcastFrom.every((f) =>
          current.some((e) => e.kind === 'broadcast' && e.from === f),
        ) && expected.p2pFrom.every((f) => current.some((e) => e.kind === 'p2p' && e.from === f));
      if (!complete) return;
      const broadcast = new Map<number, Uint8Array>();
      const p2p = new Map<number, Uint8Array>();
      for (const e of current) {
        if (e.kind === 'broadcast') {
          this.logBroadcast(round, e.from, e.payload);
          broadcast.set(e.from, this.stripEchoUnchecked(e));
        } else p2p.set(e.from, e.payload);
      }
      const next = this.#protocol.advance(round, { broadcast, p2p });
      this.#inbox = this.#inbox.filter((e) => e.round !== round);
      if (round === this.#protocol.rounds) {
        if (this.#protocol.result() === undefined)
          throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'no result' });
        this.#status = 'done';
        this.#inbox = [];
        return;
      }
      this.#round = round + 1;
      this.emit(this.#round, next);
      // Messages of the new round that arrived early are checked now.
      for (const e of this.#inbox) if (e.round === this.#round) this.check(e);
    }
  }

  private stripEchoUnchecked(e: InboxEntry): Uint8Array {
    if (e.round !== this.#protocol.confirmRound) return e.payload;
    return e.payload.subarray(this.header.parties.length * ECHO_DIGEST_LENGTH);
  }

  /** Wraps my messages of `round` in envelopes (adding the echo in the confirmation round). */
  private emit(round: number, messages: readonly Outgoing[]): void {
    const { header } = this;
    const isConfirm = round === this.#protocol.confirmRound;
    if (isConfirm && !messages.some((m) => m.to === 'broadcast'))
      throw new MpcError('ERR_MPC_SESSION_STATE', {
        detail: 'confirmation round without broadcast',
      });
    const echo = isConfirm
      ? computeEcho(header.protocol, header.sid, header.parties, this.#broadcastLog, round)
      : undefined;
    const out: ProtocolMessage[] = [];
    for (const m of messages) {
      if (m.to !== 'broadcast' && (m.to === header.me || !header.parties.includes(m.to)))
        throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'bad recipient' });
      let payload = m.payload;
      if (m.to === 'broadcast') {
        this.logBroadcast(round, header.me, m.payload);
        if (echo !== undefined) payload = concat(echo, m.payload);
      }
      out.push({
        sid: header.sid,
        protocol: header.protocol,
        round,
        from: header.me,
        to: m.to,
        payload,
      });
    }
    for (const m of out) encodeMessage(m); // fail here, not at the transport, on a bad field
    this.#outbox = out;
    this.#pending.push(...out);
  }

  private logBroadcast(round: number, from: number, payload: Uint8Array): void {
    let m = this.#broadcastLog.get(round);
    if (m === undefined) this.#broadcastLog.set(round, (m = new Map<number, Uint8Array>()));
    m.set(from, payload);
  }
}

/** Magic and version: v3, or v2 (no failure evidence). */
function readVersion(r: ByteReader): 2 | 3 {
  const magic = r.take(4);
  if (sameBytes(magic, STATE_MAGIC)) return 3;
  if (sameBytes(magic, STATE_MAGIC_V2)) return 2;
  return r.fail('bad magic');
}

/** Version, header, status, round and failure: the part of the state before the messages. */
function readHead(
  r: ByteReader,
  failureLoader: FailureLoader | undefined,
): { header: SessionHeader; status: SessionStatus; round: number; failure: MpcError | undefined } {
  const version = readVersion(r);
  const protocol = r.ascii();
  const sid = r.take(r.u8());
  const n = r.u8();
  const parties: number[] = [];
  for (let i = 0; i < n; i++) parties.push(r.u16());
  const me = r.u16();
  let header: SessionHeader;
  try {
    header = makeHeader(protocol, sid, parties, me);
  } catch (e) {
    return r.fail(isMpcError(e) ? e.code : 'header');
  }
  if (header.parties.some((p, i) => p !== parties[i])) r.fail('parties not sorted');
  const status = STATUS_CODES[r.u8()] ?? r.fail('status');
  const round = r.u8();
  let failure: MpcError | undefined;
  const hasFailure = r.u8();
  if (hasFailure > 1) r.fail('error flag');
  if (hasFailure === 1) {
    const code = r.ascii();
    if (!isMpcErrorCode(code)) return r.fail('error code');
    const culprit = r.u16();
    if (culprit !== 0 && !header.parties.includes(culprit)) r.fail('error culprit');
    const suspects: number[] = [];
    for (let i = r.u8(); i > 0; i--) {
      const p = r.u16();
      if (!header.parties.includes(p)) r.fail('error suspects');
      suspects.push(p);
    }
    failure = new MpcError(code, {
      culprit: culprit === 0 ? undefined : culprit,
      suspects: suspects.length === 0 ? undefined : suspects,
    });
    const evidence = version === 3 ? r.bytes(MAX_EVIDENCE_LENGTH) : new Uint8Array(0);
    if (evidence.length > 0) {
      if (failureLoader === undefined) r.fail('error evidence');
      failure = failureLoader(header, failure, evidence);
    }
  }
  if ((status === 'failed') !== (failure !== undefined)) r.fail('error without failure');
  return { header, status, round, failure };
}

/** A protocol that has finished: holds only its result (secrets already wiped). */
export function finishedProtocol<R>(
  rounds: number,
  confirmRound: number,
  result: R,
  state: Uint8Array,
): RoundProtocol<R> {
  return {
    rounds,
    confirmRound,
    expect: () => ({ broadcastFrom: [], p2pFrom: [] }),
    start: () => [],
    checkPayload: () => undefined,
    advance: () => [],
    result: () => result,
    encodeState: () => state.slice(),
    wipe: () => undefined,
  };
}

/** Stand-in protocol of a restored failed session (its secrets were never serialized). */
function failedProtocol<R>(): RoundProtocol<R> {
  return {
    rounds: 1,
    confirmRound: 1,
    expect: () => ({ broadcastFrom: [], p2pFrom: [] }),
    start: () => [],
    checkPayload: () => undefined,
    advance: () => [],
    result: () => undefined,
    encodeState: () => new Uint8Array(0),
    wipe: () => undefined,
  };
}

function readCount(r: ByteReader): number {
  const n = r.u16();
  if (n > MAX_STATE_ENTRIES) r.fail('too many entries');
  return n;
}

function toKey(digest: Uint8Array): string {
  return Buffer.from(digest).toString('hex');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && constantTimeEqual(a, b);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Two-byte encoding of a party index, for hash fields. */
export const partyBytes = u16be;
