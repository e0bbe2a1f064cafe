/**
 * The one permission table. Every route names exactly one permission (or
 * `public` for unauthenticated operations endpoints); a role may do what this
 * table lists and nothing more. Tests walk the whole table for every role.
 */
import type { Role } from '@countersign/protocol';

const ADMINS = ['OWNER', 'ADMIN', 'NON_SIGNING_ADMIN'] as const satisfies readonly Role[];
const EVERYONE = [
  'OWNER',
  'ADMIN',
  'NON_SIGNING_ADMIN',
  'SIGNER',
  'APPROVER',
  'EDITOR',
  'VIEWER',
] as const satisfies readonly Role[];

export const permissionTable = {
  /** Who am I: any authenticated caller may read its own identity. */
  'session:read': EVERYONE,
  'apiUsers:read': ADMINS,
  'apiUsers:create': ADMINS,
  'apiUsers:manageIpAllowlist': ADMINS,
  'auditLogs:read': ADMINS,
  'approvalRequests:read': ADMINS,
  'approvalRequests:decide': ADMINS,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissionTable;

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return (permissionTable[permission] as readonly Role[]).includes(role);
}
