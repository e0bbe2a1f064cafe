/**
 * `countersign api-user create`: the Owner creates an API user straight
 * against the database — how the first API user of a workspace comes to be,
 * before any API credentials exist. The Owner's password is checked first.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { createServices, openDatabase } from '@countersign/platform';
import { databaseFlagHelp, databaseFlagOptions, databaseOptionsFrom } from '../database-flags.js';
import { ExitCode, UsageError } from '../exit-codes.js';

export const apiUserHelp = `Usage: countersign api-user create --name <name> --role <role> --csr <file> --owner-email <email> [database flags]

Creates an API user as the workspace Owner, from a CSR made with
'countersign csr' or openssl. Prints the API key. The Owner's password is read
from COUNTERSIGN_OWNER_PASSWORD or asked for on the terminal.

  --role <role>    ADMIN, NON_SIGNING_ADMIN, SIGNER, APPROVER, EDITOR or VIEWER

Once an admin API user exists, create the others through the API
(POST /v1/management/api_users), which records who did it.

${databaseFlagHelp}`;

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
      'owner-email': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...databaseFlagOptions,
    },
  });
  if (values.help) {
    console.log(apiUserHelp);
    return ExitCode.OK;
  }
  for (const flag of ['name', 'role', 'csr', 'owner-email'] as const) {
    if (!values[flag]) throw new UsageError(`--${flag} is required`);
  }
  const csrPem = readFileSync(values.csr!, 'utf8');
  const password = process.env['COUNTERSIGN_OWNER_PASSWORD'] ?? (await askPassword());
  const database = await openDatabase(databaseOptionsFrom(values));
  try {
    const services = createServices(database, { clockSkewSeconds: 0 });
    const owner = await services.workspaces.signIn(values['owner-email']!, password);
    if (!owner || owner.role !== 'OWNER') {
      console.error('countersign api-user: wrong owner email or password');
      return ExitCode.FAILURE;
    }
    const created = await services.apiUsers.create(owner, { name: values.name!, role: values.role!, csrPem });
    for (const w of created.warnings) console.error(`warning: ${w}`);
    console.log(`API user created: ${created.user.name} (${created.user.role}), status ${created.user.status}
  API key: ${created.user.id}`);
    return ExitCode.OK;
  } finally {
    await database.close();
  }
}

async function askPassword(): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('set COUNTERSIGN_OWNER_PASSWORD (no terminal to ask on)');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await rl.question('Owner password: ');
  } finally {
    rl.close();
  }
}
