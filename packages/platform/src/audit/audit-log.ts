/**
 * The append-only audit log: every state change and every failed
 * authentication. Appends take a transaction-scoped advisory lock so the chain
 * stays linear even with several platform instances on one PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { GENESIS_HASH, auditEntryHash } from './audit-chain.js';
import { normaliseJson } from './canonical-json.js';

/** Arbitrary, fixed: the advisory lock key that serialises audit appends. */
const AUDIT_LOCK_KEY = 7_301_001;

/** `cosigner`: a co-signer acting on its own behalf (unpair or rename from its host). */
export type ActorKind = 'api_user' | 'console_user' | 'system' | 'anonymous' | 'cosigner';

export interface AuditEvent {
  workspaceId: string | null;
  actorKind: ActorKind;
  actorId: string | null;
  /** Dotted verb, e.g. `api_user.created`, `auth.failed`. */
  action: string;
  subject?: string | null;
  /** Never secrets: no keys, tokens, JWTs or passwords. */
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: string;
  id: string;
  workspaceId: string | null;
  at: Date;
  actorKind: string;
  actorId: string | null;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export class AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends inside the caller's transaction, so the entry commits with the change it records. */
  async appendIn(trx: Transaction<Database>, event: AuditEvent): Promise<AuditRecord> {
    await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(trx);
    const last = await trx
      .selectFrom('audit_log')
      .select('hash')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const prevHash = last?.hash ?? GENESIS_HASH;
    const fields = {
      id: randomUUID(),
      workspaceId: event.workspaceId,
      at: new Date(),
      actorKind: event.actorKind,
      actorId: event.actorId,
      action: event.action,
      subject: event.subject ?? null,
      details: storableDetails(event.details ?? {}),
    };
    const hash = auditEntryHash(prevHash, fields);
    const row = await trx
      .insertInto('audit_log')
      .values({
        id: fields.id,
        workspace_id: fields.workspaceId,
        at: fields.at,
        actor_kind: fields.actorKind,
        actor_id: fields.actorId,
        action: fields.action,
        subject: fields.subject,
        details: JSON.stringify(fields.details),
        prev_hash: prevHash,
        hash,
      })
      .returning('seq')
      .executeTakeFirstOrThrow();
    return { seq: row.seq, ...fields, prevHash, hash };
  }

  /** Appends in a transaction of its own (auth failures, events without a state change). */
  async append(event: AuditEvent): Promise<AuditRecord> {
    return this.db.transaction().execute((trx) => this.appendIn(trx, event));
  }

  /** Newest first; `beforeSeq` is the cursor. */
  async page(options: {
    workspaceId: string;
    beforeSeq?: string | undefined;
    since?: Date | undefined;
    limit: number;
  }): Promise<AuditRecord[]> {
    let q = this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('workspace_id', '=', options.workspaceId)
      .orderBy('seq', 'desc')
      .limit(options.limit);
    if (options.beforeSeq !== undefined) q = q.where('seq', '<', options.beforeSeq);
    if (options.since !== undefined) q = q.where('at', '>=', options.since);
    return (await q.execute()).map(toRecord);
  }

  /**
   * Recomputes the whole chain in order. Returns the first entry whose hash or
   * link does not match, or null when the chain is intact.
   */
  async verify(onProgress?: (checked: number) => void): Promise<{
    checked: number;
    broken: { seq: string; id: string; reason: string } | null;
    /** The last entry checked: record it elsewhere to detect a later truncation. */
    head: { seq: string; hash: string } | null;
  }> {
    const batch = 1000;
    let prevHash = GENESIS_HASH;
    let afterSeq: string | undefined;
    let checked = 0;
    let head: { seq: string; hash: string } | null = null;
    for (;;) {
      let q = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'asc').limit(batch);
      if (afterSeq !== undefined) q = q.where('seq', '>', afterSeq);
      const rows = (await q.execute()).map(toRecord);
      for (const r of rows) {
        if (r.prevHash !== prevHash) {
          return {
            checked,
            broken: { seq: r.seq, id: r.id, reason: 'does not link to the previous entry' },
            head,
          };
        }
        if (auditEntryHash(prevHash, r) !== r.hash) {
          return {
            checked,
            broken: { seq: r.seq, id: r.id, reason: 'content does not match its hash' },
            head,
          };
        }
        prevHash = r.hash;
        head = { seq: r.seq, hash: r.hash };
        checked += 1;
      }
      onProgress?.(checked);
      if (rows.length < batch) return { checked, broken: null, head };
      afterSeq = rows[rows.length - 1]!.seq;
    }
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    id: row.id,
    workspaceId: row.workspace_id,
    at: row.at,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    action: row.action,
    subject: row.subject,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

interface AuditRow {
  seq: string;
  id: string;
  workspace_id: string | null;
  at: Date;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/**
 * Details as they will be stored: the JSON form, with the two things
 * PostgreSQL's jsonb refuses in strings (NUL, unpaired surrogates) replaced by
 * U+FFFD. An audit entry must never fail to be written because of what a
 * caller put in it; the hash covers exactly this stored form.
 */
function storableDetails(details: Record<string, unknown>): Record<string, unknown> {
  const clean = (value: unknown): unknown => {
    // eslint-disable-next-line no-control-regex -- replacing NUL is the point
    if (typeof value === 'string') return value.replace(/\u0000|\p{Cs}/gu, '\uFFFD');
    if (Array.isArray(value)) return value.map(clean);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [clean(k) as string, clean(v)]),
      );
    }
    return value;
  };
  return clean(normaliseJson(details)) as Record<string, unknown>;
}
