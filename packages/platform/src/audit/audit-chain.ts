/**
 * The audit log's hash chain. Each entry's hash covers the previous entry's
 * hash and every field of the entry, so removing, reordering or editing any
 * row breaks every hash after it. The first entry chains to GENESIS_HASH.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  id: string;
  workspaceId: string | null;
  at: Date;
  actorKind: string;
  actorId: string | null;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
}

export function auditEntryHash(prevHash: string, entry: ChainedFields): string {
  const body = canonicalJson([
    'countersign/audit/v1',
    prevHash,
    entry.id,
    entry.workspaceId,
    entry.at.toISOString(),
    entry.actorKind,
    entry.actorId,
    entry.action,
    entry.subject,
    entry.details,
  ]);
  return createHash('sha256').update(body).digest('hex');
}
