/**
 * The one permission table. Every route names exactly one permission (or
 * `public` for unauthenticated operations endpoints); a role may do what this
 * table lists and nothing more. Tests walk the whole table for every role.
 *
 * Co-signer calls (`/cosigner/v1/...`) are not made by workspace roles:
 * `cosignerCredential` routes are authenticated by the pairing or refresh
 * token in their body, `cosigner` routes by a co-signer access token.
 */
import type { Role } from '@countersign/protocol';

const ADMINS = ['OWNER', 'ADMIN', 'NON_SIGNING_ADMIN'] as const satisfies readonly Role[];
/** Admins who may sign: pairing creates signing power, which a NON_SIGNING_ADMIN lacks. */
const SIGNING_ADMINS = ['OWNER', 'ADMIN'] as const satisfies readonly Role[];
const EVERYONE = [
  'OWNER',
  'ADMIN',
  'NON_SIGNING_ADMIN',
  'SIGNER',
  'APPROVER',
  'EDITOR',
  'VIEWER',
] as const satisfies readonly Role[];

/** Who may create and hide vault accounts and wallets: every role but VIEWER. */
const VAULT_EDITORS = EVERYONE.filter((role) => role !== 'VIEWER');

export const permissionTable = {
  /** Who am I: any authenticated caller may read its own identity. */
  'session:read': EVERYONE,
  'apiUsers:read': ADMINS,
  'apiUsers:create': ADMINS,
  'apiUsers:manageIpAllowlist': ADMINS,
  'auditLogs:read': ADMINS,
  'approvalRequests:read': ADMINS,
  'approvalRequests:decide': ADMINS,
  /** List and read co-signers and their paired API keys. */
  'cosigners:read': ADMINS,
  'cosigners:rename': ADMINS,
  /** Issue a pairing token for a SIGNER/ADMIN API user (never for oneself). */
  'cosigners:issuePairingToken': SIGNING_ADMINS,
  /** Ask to pair an API user with an existing co-signer (the Owner then approves). */
  'cosigners:pairApiKey': SIGNING_ADMINS,
  /** Decides COSIGNER_PAIR and COSIGNER_UNPAIR requests: the workspace Owner's approval. */
  'cosigners:approvePairing': ['OWNER'],
  /** Ask to unpair: any admin may ask; the Owner decides (unpairing destroys the cloud shares). */
  'cosigners:unpairApiKey': ADMINS,
  'cosigners:updateCallbackHandler': SIGNING_ADMINS,
  /** Create a transaction (RAW signing); the policy will decide who signs it. */
  'transactions:create': ['OWNER', 'ADMIN', 'NON_SIGNING_ADMIN', 'SIGNER', 'EDITOR'],
  'transactions:read': EVERYONE,
  /** Vault accounts, wallets and addresses (Fireblocks: every role reads). */
  'vaults:read': EVERYONE,
  /** Create vault accounts and asset wallets; the permission lists of the Fireblocks API. */
  'vaults:create': VAULT_EDITORS,
  'vaults:hide': VAULT_EDITORS,
  'vaults:rename': ['OWNER', 'ADMIN', 'NON_SIGNING_ADMIN', 'SIGNER', 'APPROVER'],
  'assets:read': EVERYONE,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissionTable;

/** What a route requires: a permission, nothing, or a co-signer credential (see above). */
export type RouteAccess = Permission | 'public' | 'cosignerCredential' | 'cosigner';

/** A workspace permission, or undefined for routes that API-user authentication skips. */
export function workspacePermission(access: RouteAccess | undefined): Permission | undefined {
  return access === undefined ||
    access === 'public' ||
    access === 'cosignerCredential' ||
    access === 'cosigner'
    ? undefined
    : access;
}

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return (permissionTable[permission] as readonly Role[]).includes(role);
}
