/**
 * Workspace roles, as the Fireblocks API names them. API users and console
 * users share one role set; what each role may do is decided by the platform's
 * permission table, not here.
 */
export const Roles = [
  'OWNER',
  'ADMIN',
  'NON_SIGNING_ADMIN',
  'SIGNER',
  'APPROVER',
  'EDITOR',
  'VIEWER',
] as const;

export type Role = (typeof Roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (Roles as readonly string[]).includes(value);
}
