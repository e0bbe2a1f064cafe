/** `countersign workspace init`: a workspace and its Owner, credentials printed once. */
import { parseArgs } from 'node:util';
import { createServices, openDatabase } from '@countersign/platform';
import { databaseFlagHelp, databaseFlagOptions, databaseOptionsFrom } from '../database-flags.js';
import { ExitCode, UsageError } from '../exit-codes.js';

export const workspaceHelp = `Usage: countersign workspace init --name <name> --owner-email <email> [--sandbox] [database flags]

Creates a workspace and its Owner (a console user). The Owner's password is
generated and printed once: store it in a password manager; it is kept only as
a scrypt hash. Set COUNTERSIGN_OWNER_PASSWORD to choose it instead (12+ chars).

  --sandbox   a sandbox workspace, for test networks only: its SIGNER and ADMIN
              API users are paired automatically to the operator's communal
              test co-signer, which holds their key shares (the operator then
              holds every share of this workspace's keys). Chosen now, never
              changed later. See packages/platform/docs/sandbox.md.

${databaseFlagHelp}`;

export async function workspaceCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(workspaceHelp);
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (sub !== 'init') throw new UsageError(`unknown workspace command: ${sub}`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      name: { type: 'string' },
      'owner-email': { type: 'string' },
      sandbox: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...databaseFlagOptions,
    },
  });
  if (values.help) {
    console.log(workspaceHelp);
    return ExitCode.OK;
  }
  if (!values.name) throw new UsageError('--name is required');
  if (!values['owner-email']) throw new UsageError('--owner-email is required');
  const database = await openDatabase(databaseOptionsFrom(values));
  try {
    const { workspaces } = createServices(database, { clockSkewSeconds: 0 });
    const created = await workspaces.create({
      name: values.name,
      ownerEmail: values['owner-email'],
      ownerPassword: process.env['COUNTERSIGN_OWNER_PASSWORD'],
      sandbox: values.sandbox === true,
    });
    console.log(`${created.sandbox ? 'Sandbox workspace' : 'Workspace'} created in ${database.location}
  workspace id:   ${created.workspaceId}
  owner email:    ${created.owner.email}
  owner password: ${process.env['COUNTERSIGN_OWNER_PASSWORD'] ? '(as given in COUNTERSIGN_OWNER_PASSWORD)' : created.ownerPassword}

The password is shown only this once.${
      created.sandbox
        ? `
A sandbox is for test networks only: its signers are paired to the operator's
communal test co-signer. To leave it, pair your own co-signer to a new API user
and unpair (or disable) the API users the communal co-signer serves.`
        : ''
    }`);
    return ExitCode.OK;
  } finally {
    await database.close();
  }
}
