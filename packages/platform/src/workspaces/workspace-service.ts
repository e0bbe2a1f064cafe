/**
 * Workspace bootstrap: a workspace and its Owner, the console user every
 * other principal ultimately answers to.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { generatePassword, hashPassword, verifyPassword } from './password-hash.js';

export interface CreatedWorkspace {
  workspaceId: string;
  /** Fixed at creation (docs/sandbox.md). */
  sandbox: boolean;
  owner: Principal & { email: string };
  /** Shown once, never stored in clear. */
  ownerPassword: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What a sign-in attempt gave. `ambiguous`: the same email and password are
 * valid in several workspaces, and no workspace id was given to choose one;
 * the caller must ask for it rather than act in whichever came first.
 */
export type SignInResult =
  | { outcome: 'signed-in'; principal: Principal }
  | { outcome: 'invalid' }
  | { outcome: 'ambiguous'; workspaceIds: string[] };

/** Verified against when no user matches, so that "no such email" takes as long as a wrong password. */
let dummyHash: Promise<string> | undefined;

export class WorkspaceService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
  ) {}

  async create(input: {
    name: string;
    ownerEmail: string;
    ownerPassword?: string | undefined;
    /**
     * A sandbox workspace (test networks only): its signers are paired to the operator's communal
     * test co-signer automatically. Chosen here once; it never changes (docs/sandbox.md).
     */
    sandbox?: boolean | undefined;
  }): Promise<CreatedWorkspace> {
    const sandbox = input.sandbox === true;
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) {
      throw new ValidationError(
        'ERR_WORKSPACE_NAME',
        'INVALID_REQUEST',
        'Workspace name must be 1 to 100 characters',
      );
    }
    if (!EMAIL.test(input.ownerEmail)) {
      throw new ValidationError(
        'ERR_OWNER_EMAIL',
        'INVALID_REQUEST',
        'Owner email is not an email address',
      );
    }
    const password = input.ownerPassword ?? generatePassword();
    if (password.length < 12) {
      throw new ValidationError(
        'ERR_OWNER_PASSWORD',
        'INVALID_REQUEST',
        'Owner password must be at least 12 characters',
      );
    }
    const passwordHash = await hashPassword(password);
    const workspaceId = randomUUID();
    const ownerId = randomUUID();
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('workspaces').values({ id: workspaceId, name, sandbox }).execute();
      await trx
        .insertInto('console_users')
        .values({
          id: ownerId,
          workspace_id: workspaceId,
          email: input.ownerEmail,
          password_hash: passwordHash,
          role: 'OWNER',
        })
        .execute();
      await this.audit.appendIn(trx, {
        workspaceId,
        actorKind: 'system',
        actorId: null,
        action: 'workspace.created',
        subject: workspaceId,
        details: { name, ownerId, ownerEmail: input.ownerEmail, sandbox },
      });
    });
    return {
      workspaceId,
      sandbox,
      owner: {
        kind: 'console_user',
        id: ownerId,
        workspaceId,
        role: 'OWNER',
        name: input.ownerEmail,
        email: input.ownerEmail,
      },
      ownerPassword: password,
    };
  }

  async list(): Promise<{ id: string; name: string; sandbox: boolean; created_at: Date }[]> {
    return this.db
      .selectFrom('workspaces')
      .select(['id', 'name', 'sandbox', 'created_at'])
      .orderBy('created_at')
      .execute();
  }

  /** Whether the workspace is a sandbox (false for an unknown one). */
  async isSandbox(workspaceId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('workspaces')
      .select('sandbox')
      .where('id', '=', workspaceId)
      .executeTakeFirst();
    return row?.sandbox === true;
  }

  /**
   * Signs a console user in by email and password, in `workspaceId` when
   * given. The same email may be an Owner in several workspaces; if the
   * password is right in more than one and no workspace id narrows it, the
   * result is `ambiguous` (with the workspace ids the credentials are valid
   * in), never an arbitrary pick. One `invalid` answer for every mismatch.
   */
  async signIn(email: string, password: string, workspaceId?: string): Promise<SignInResult> {
    if (workspaceId !== undefined && !UUID.test(workspaceId)) return { outcome: 'invalid' };
    let q = this.db
      .selectFrom('console_users')
      .selectAll()
      .where('email', '=', email)
      .where('enabled', '=', true)
      .orderBy('workspace_id');
    if (workspaceId !== undefined) q = q.where('workspace_id', '=', workspaceId);
    const users = await q.execute();
    if (users.length === 0) {
      dummyHash ??= hashPassword(generatePassword());
      await verifyPassword(password, await dummyHash);
      return { outcome: 'invalid' };
    }
    const matches: Principal[] = [];
    for (const u of users) {
      if (await verifyPassword(password, u.password_hash)) {
        matches.push({
          kind: 'console_user',
          id: u.id,
          workspaceId: u.workspace_id,
          role: u.role as Principal['role'],
          name: u.email,
        });
      }
    }
    const [only, ...others] = matches;
    if (only === undefined) return { outcome: 'invalid' };
    if (others.length > 0) {
      return { outcome: 'ambiguous', workspaceIds: matches.map((m) => m.workspaceId) };
    }
    return { outcome: 'signed-in', principal: only };
  }
}
