/**
 * A real platform for tests: PGlite in memory by default, or a fresh schema on
 * the PostgreSQL at DATABASE_URL, so the same suite runs on both engines.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Role } from '@countersign/protocol';
import {
  buildApp,
  defaultConfig,
  openDatabase,
  type PlatformConfig,
  type Principal,
} from '../../src/index.js';
import { authHeaders, type ClaimOverrides } from './request-signing.js';
import { testKey, type TestKey } from './keys.js';

export interface TestPlatform {
  app: FastifyInstance;
  workspaceId: string;
  owner: Principal;
  close(): Promise<void>;
}

let template: Blob | undefined;
/** The migrated data directory saved by vitest.global-setup.ts, when there is one. */
function pgliteTemplate(): Blob | undefined {
  const file = process.env['COUNTERSIGN_TEST_PGLITE_TEMPLATE'];
  if (!file) return undefined;
  template ??= new Blob([readFileSync(file)]);
  return template;
}

export async function startTestPlatform(
  overrides: Partial<PlatformConfig> = {},
  beforeReady?: (app: FastifyInstance) => void,
  logStream?: { write(line: string): void },
  clock?: () => Date,
  /**
   * Relay options. The presignature pool is off unless asked for: a test's parties answer the
   * jobs it scripts, and PRESIGN jobs of a pool would come between them.
   */
  relay: Parameters<typeof buildApp>[0]['relay'] = { presignaturePoolSize: 0 },
): Promise<TestPlatform> {
  const databaseUrl = process.env['DATABASE_URL'];
  const database = await openDatabase(
    databaseUrl
      ? { databaseUrl, schema: `t_${randomBytes(6).toString('hex')}`, poolSize: 4 }
      : { dataDir: 'memory://', pgliteTemplate: pgliteTemplate() },
  );
  const app = await buildApp({
    config: { ...defaultConfig, logLevel: 'silent', ...overrides, database: {} },
    database,
    relay,
    ...(logStream ? { logStream } : {}),
    ...(clock ? { clock } : {}),
  });
  beforeReady?.(app);
  await app.ready();
  const ws = await app.services.workspaces.create({
    name: 'Test workspace',
    ownerEmail: 'owner@example.test',
  });
  return { app, workspaceId: ws.workspaceId, owner: ws.owner, close: () => app.close() };
}

export interface TestApiUser {
  id: string;
  role: Role;
  key: TestKey;
}

/** Creates a ready API user as the Owner would (quorum 1 completes at once). */
export async function createApiUser(
  p: TestPlatform,
  name: string,
  role: Role,
  bits = 2048,
): Promise<TestApiUser> {
  const key = await testKey(name, bits);
  const created = await p.app.services.apiUsers.create(p.owner, { name, role, csrPem: key.csrPem });
  return { id: created.user.id, role, key };
}

/** Sends a signed request as `user` through Fastify's injector. */
export async function signedRequest(
  p: TestPlatform,
  user: TestApiUser,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  options: {
    body?: unknown;
    claims?: ClaimOverrides;
    headers?: Record<string, string>;
    remoteAddress?: string;
  } = {},
): Promise<LightMyRequestResponse> {
  const body = options.body === undefined ? '' : JSON.stringify(options.body);
  const inject: InjectOptions = {
    method,
    url,
    headers: {
      ...authHeaders(user.key.privateKey, user.id, url, body, options.claims),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(body ? { payload: body } : {}),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  };
  return p.app.inject(inject);
}
