/**
 * `countersign dev`: the embedded default. Starts the platform on PGlite in
 * .countersign/, with a workspace, its Owner and an admin API user ready on
 * first run (credentials printed once), then prints what to do next.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildApp,
  closeOnSignals,
  configFromEnv,
  createServices,
  openDatabase,
  type PlatformDatabase,
} from '@countersign/platform';
import { devDir, readDevState, writeDevState, type DevState } from '../dev-state.js';
import { ExitCode } from '../exit-codes.js';
import { parsePort } from '../parse-port.js';
import { writeKeyAndCsr } from './csr.js';

export const devHelp = `Usage: countersign dev [--home <dir>] [--host <addr>] [--port <n>]

Runs Countersign locally on the embedded database (PGlite), zero setup. The
first run creates a workspace, its Owner and an ADMIN API user whose key is
written to <home>/dev/api_private.key; later runs reuse them. Ctrl+C stops it.

  --home <dir>    state directory (default .countersign; $COUNTERSIGN_HOME)
  --host <addr>   listen address (default 127.0.0.1)
  --port <n>      listen port (default 8080; 0 picks a free port)`;

const OWNER_EMAIL = 'owner@countersign.local';

export async function devCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      home: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(devHelp);
    return ExitCode.OK;
  }
  const home = values.home ?? process.env['COUNTERSIGN_HOME'] ?? '.countersign';
  const host = values.host ?? '127.0.0.1';
  const port = parsePort(values.port ?? '8080');
  const dataDir = join(home, 'db');

  step(`Opening the embedded database in ${dataDir} (first start takes a few seconds)`);
  const database = await openDatabase({ dataDir });
  let state: DevState;
  try {
    state = await ensureWorkspace(database, home);
  } catch (error) {
    await database.close();
    throw error;
  }

  const config = {
    ...configFromEnv({ ...process.env, DATABASE_URL: '' }),
    logLevel: 'warn' as const,
  };
  const app = await buildApp({ config, database });
  // Before anything is announced: a Ctrl+C at any moment from here closes cleanly.
  closeOnSignals(
    () => app.close(),
    (m) => console.log(m),
  );
  try {
    await app.listen({ host, port });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(
        `countersign dev: port ${port} is in use; pass --port <n> (or --port 0 for any free port)`,
      );
      return ExitCode.FAILURE;
    }
    throw error;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  writeDevState({ ...state, baseUrl }, home);

  const keyPath = relative(process.cwd(), state.privateKeyPath) || state.privateKeyPath;
  console.log(`
Countersign is running (embedded database, workspace ${state.workspaceId})

  Base URL:      ${baseUrl}/v1
  API key:       ${state.apiKey}   (role ADMIN)
  Private key:   ${keyPath}
  OpenAPI:       ${baseUrl}/docs/json

Next steps (in another terminal):
  npx countersign api GET /v1/management/api_users
  npx countersign csr --name my-bot --org "My Company" --out ./my-bot
  npx countersign api-user create --name my-bot --role VIEWER --csr ./my-bot/api_user.csr
  npx countersign api GET /v1/management/audit_logs

Press Ctrl+C to stop.`);
  return new Promise<number>(() => {
    /* runs until a signal closes it */
  });
}

function step(message: string): void {
  console.log(`• ${message}`);
}

/** Reuses the workspace of an earlier run, or creates workspace, Owner and dev API user. */
async function ensureWorkspace(database: PlatformDatabase, home: string): Promise<DevState> {
  const services = createServices(database, { clockSkewSeconds: 0 });
  const previous = readDevState(home);
  if (previous) {
    const user = await database.db
      .selectFrom('api_users')
      .select(['id', 'public_key_pem'])
      .where('id', '=', previous.apiKey)
      .where('workspace_id', '=', previous.workspaceId)
      .executeTakeFirst();
    if (user && readable(previous.privateKeyPath)) {
      step('Reusing the workspace and API user from the previous run');
      return previous;
    }
    step('The previous run’s state does not match the database: creating a new workspace');
  }

  step('Creating workspace "Development" and its Owner');
  const workspace = await services.workspaces.create({
    name: 'Development',
    ownerEmail: OWNER_EMAIL,
    ownerPassword: process.env['COUNTERSIGN_OWNER_PASSWORD'],
  });
  step('Generating an RSA-4096 key and CSR for the development API user');
  const keys = await writeKeyAndCsr({
    name: 'dev-admin',
    org: 'Countersign dev',
    out: devDir(home),
    force: true,
  });
  const created = await services.apiUsers.create(workspace.owner, {
    name: 'dev-admin',
    role: 'ADMIN',
    csrPem: readFileSync(keys.csrPath, 'utf8'),
  });
  const state: DevState = {
    workspaceId: workspace.workspaceId,
    apiKey: created.user.id,
    privateKeyPath: resolve(keys.keyPath),
  };
  writeDevState(state, home);
  console.log(`
  Owner (console user), shown only this once:
    email:    ${workspace.owner.email}
    password: ${process.env['COUNTERSIGN_OWNER_PASSWORD'] ? '(from COUNTERSIGN_OWNER_PASSWORD)' : workspace.ownerPassword}`);
  return state;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
