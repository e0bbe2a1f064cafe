/**
 * `countersign dev`: the embedded default (ARCHITECTURE §11). Starts the platform on PGlite in
 * .countersign/, with a workspace, its Owner and an admin API user ready on first run
 * (credentials printed once); then, unless --platform-only, two cloud co-signers and an API
 * co-signer in the same process (dev/dev-stack.ts) until both root keys exist, and prints how
 * to sign a RAW message.
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
import { startDevStack, type DevStack } from '../dev/dev-stack.js';
import { cosignerPlatformUrl, runningMessage } from '../dev/dev-output.js';
import { ExitCode } from '../exit-codes.js';
import { parsePort } from '../parse-port.js';
import { writeKeyAndCsr } from './csr.js';

export const devHelp = `Usage: countersign dev [--home <dir>] [--host <addr>] [--port <n>]
                       [--platform-only]

Runs Countersign locally, zero setup: the platform on the embedded database
(PGlite), two Cloud Co-signers, one API co-signer and the communal test
co-signer of sandbox workspaces (workspace init --sandbox), all in this
process. The first run creates a workspace, its Owner, an ADMIN API user
whose key is written to <home>/dev/api_private.key, and a SIGNER API user
"dev-signer" paired with the API co-signer; it waits until KEYGEN has made
the root keys (secp256k1 and Ed25519), then prints how to sign a RAW message.
Later runs reuse all of it, on any --port (the co-signers follow the platform
to its new address). Ctrl+C stops it.

Each co-signer has its own store under <home>/cosigners/<name> (local KMS);
their passphrase is generated once into <home>/dev/cosigner-passphrase (mode
0600) — for development only.

  --home <dir>       state directory (default .countersign; $COUNTERSIGN_HOME)
  --host <addr>      listen address (default 127.0.0.1; the co-signers use
                     loopback)
  --port <n>         listen port (default 8080; 0 picks a free port)
  --platform-only    run only the platform, as before co-signers existed here
                     (register your own with cloud-cosigner token and
                     cosigner pair)`;

const OWNER_EMAIL = 'owner@countersign.local';

export async function devCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      home: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'platform-only': { type: 'boolean' },
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
  const platformOnly = values['platform-only'] === true;
  // Checked before anything starts: the co-signers need a loopback address to reach, and a
  // setting the environment gets wrong is refused before a workspace is made.
  if (!platformOnly) cosignerPlatformUrl(host, port);
  const config = {
    ...configFromEnv({ ...process.env, DATABASE_URL: '' }),
    logLevel: 'warn' as const,
  };
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

  const app = await buildApp({ config, database });
  let stack: DevStack | undefined;
  // Before anything is announced: a Ctrl+C at any moment from here closes cleanly, the
  // co-signers first (their long polls end), then the platform and its database.
  const close = async (): Promise<void> => {
    await stack?.stop();
    await app.close();
  };
  closeOnSignals(close, (m) => console.log(m));
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

  if (!platformOnly) {
    try {
      stack = await startDevStack({
        services: app.services,
        home,
        workspaceId: state.workspaceId,
        platformUrl: cosignerPlatformUrl(host, boundPort),
        step,
        log: (line) => console.log(line),
      });
      await stack.rootKeys();
    } catch (error) {
      await close();
      throw error;
    }
  }

  const keyPath = relative(process.cwd(), state.privateKeyPath) || state.privateKeyPath;
  console.log(
    runningMessage({
      workspaceId: state.workspaceId,
      baseUrl,
      apiKey: state.apiKey,
      keyPath,
      stackHome: platformOnly ? undefined : home,
    }),
  );
  if (stack === undefined) {
    return new Promise<number>(() => {
      /* runs until a signal closes it */
    });
  }
  // Runs until a signal closes it, or a co-signer stops on its own: then the stack is broken.
  try {
    await stack.stopped;
  } catch (error) {
    console.error(`countersign dev: ${(error as Error).message}; shutting down`);
  }
  await close();
  return ExitCode.FAILURE;
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
