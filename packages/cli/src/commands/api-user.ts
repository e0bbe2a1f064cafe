/**
 * `countersign api-user create`: create an API user from a CSR. Through the
 * API with an admin API user's credentials (the usual way, attributed to that
 * user), or — with --owner-email — as the workspace Owner straight against
 * the database, which is how the first API user of a workspace comes to be.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { createServices, openDatabase } from '@countersign/platform';
import type { CreateApiUserResponse } from '@countersign/protocol';
import { apiClientFrom, apiCredentialFlags, apiCredentialHelp } from '../api-credentials.js';
import { databaseFlagHelp, databaseFlagOptions, databaseOptionsFrom } from '../database-flags.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { reportApiError } from './api.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const apiUserHelp = `Usage: countersign api-user create --name <name> --role <role> --csr <file> [options]

Creates an API user from a CSR made with 'countersign csr' or openssl, and
prints its API key.

  --role <role>           ADMIN, NON_SIGNING_ADMIN, SIGNER, APPROVER, EDITOR or VIEWER
  --json                  print the API's response as JSON

${apiCredentialHelp}

Bootstrap (no API user exists yet): act as the workspace Owner, directly on
the database. The password is asked for at the terminal (not echoed), or read
from COUNTERSIGN_OWNER_PASSWORD (never put it on the command line).
  --owner-email <email>   the Owner's email
  --workspace-id <id>     the workspace, required when the same email and
                          password are an Owner's in more than one workspace
${databaseFlagHelp.replace(/^/gm, '  ')}`;

export async function apiUserCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(apiUserHelp);
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (sub !== 'create') throw new UsageError(`unknown api-user command: ${sub}`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      csr: { type: 'string' },
      json: { type: 'boolean' },
      'owner-email': { type: 'string' },
      'workspace-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...databaseFlagOptions,
      ...apiCredentialFlags,
    },
  });
  if (values.help) {
    console.log(apiUserHelp);
    return ExitCode.OK;
  }
  const { name, role, csr } = values;
  if (!name || !role || !csr) throw new UsageError('--name, --role and --csr are required');
  let csrPem: string;
  try {
    csrPem = readFileSync(csr, 'utf8');
  } catch {
    throw new UsageError(`cannot read the CSR file ${csr}`);
  }

  const workspaceId = values['workspace-id'];
  if (workspaceId !== undefined && !values['owner-email']) {
    throw new UsageError('--workspace-id goes with --owner-email (the bootstrap path)');
  }
  if (workspaceId !== undefined && !UUID.test(workspaceId)) {
    throw new UsageError(
      `--workspace-id must be a workspace UUID; got ${JSON.stringify(workspaceId)}`,
    );
  }
  if (values['owner-email']) {
    return createAsOwner(values['owner-email'], workspaceId, { name, role, csrPem }, values);
  }

  try {
    const created = await apiClientFrom(values).request<CreateApiUserResponse>(
      'POST',
      '/v1/management/api_users',
      { body: { name, role, csrPem } },
    );
    if (values.json) console.log(JSON.stringify(created, null, 2));
    else {
      for (const w of created.warnings) console.error(`warning: ${w}`);
      console.log(`API user ${created.name} (${created.role}): ${created.status}
  API key: ${created.apiKey}${created.status === 'PENDING_APPROVAL' ? `\n  waiting for approval request ${created.approvalRequest.id}` : ''}`);
    }
    return ExitCode.OK;
  } catch (error) {
    return reportApiError(error);
  }
}

async function createAsOwner(
  ownerEmail: string,
  workspaceId: string | undefined,
  input: { name: string; role: string; csrPem: string },
  flags: { 'data-dir'?: string | undefined; 'database-url'?: string | undefined },
): Promise<number> {
  const password = process.env['COUNTERSIGN_OWNER_PASSWORD'] ?? (await askPassword());
  const database = await openDatabase(databaseOptionsFrom(flags));
  try {
    const services = createServices(database, { clockSkewSeconds: 0 });
    const signedIn = await services.workspaces.signIn(ownerEmail, password, workspaceId);
    if (signedIn.outcome === 'ambiguous') {
      console.error(
        `countersign api-user: ${ownerEmail} signs in to ${signedIn.workspaceIds.length} workspaces with this password; choose one with --workspace-id:\n${signedIn.workspaceIds.map((id) => `  ${id}`).join('\n')}`,
      );
      return ExitCode.USAGE;
    }
    if (signedIn.outcome !== 'signed-in' || signedIn.principal.role !== 'OWNER') {
      console.error(
        `countersign api-user: wrong owner email or password${workspaceId === undefined ? '' : ` for workspace ${workspaceId}`}`,
      );
      return ExitCode.FAILURE;
    }
    const owner = signedIn.principal;
    const created = await services.apiUsers.create(owner, input);
    for (const w of created.warnings) console.error(`warning: ${w}`);
    console.log(`API user ${created.user.name} (${created.user.role}): ${created.user.status}
  API key: ${created.user.id}`);
    return ExitCode.OK;
  } finally {
    await database.close();
  }
}

/** Reads the password without echoing it. */
async function askPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new UsageError('set COUNTERSIGN_OWNER_PASSWORD (no terminal to ask on)');
  }
  process.stderr.write('Owner password: ');
  const rl = createInterface({ input: process.stdin, terminal: true });
  // readline echoes through its output stream; with none, nothing is echoed.
  try {
    return await rl.question('');
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
