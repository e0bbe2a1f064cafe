/**
 * Wire compatibility: the official Fireblocks TypeScript SDK, unchanged and
 * pointed at a listening platform, authenticates and lists API users.
 */
import { Fireblocks } from '@fireblocks/ts-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKey } from './helpers/keys.js';
import {
  createApiUser,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('official @fireblocks/ts-sdk against Countersign', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let basePath: string;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'fireblocks-sdk-admin', 'ADMIN');
    const address = await p.app.listen({ host: '127.0.0.1', port: 0 });
    basePath = `${address}/v1`;
  });
  afterAll(() => p.close());

  it('lists API users', async () => {
    const fireblocks = new Fireblocks({
      apiKey: admin.id,
      secretKey: admin.key.privateKeyPem,
      basePath,
    });
    const res = await fireblocks.apiUser.getApiUsers();
    expect(res.statusCode).toBe(200);
    const names = (res.data.users ?? []).map((u) => u.name);
    expect(names).toContain('fireblocks-sdk-admin');
    expect(res.data.users?.find((u) => u.id === admin.id)).toMatchObject({
      role: 'ADMIN',
      enabled: true,
      userType: 'API',
    });
  });

  it('creates an API user (signed POST body) and reads the audit log', async () => {
    const fireblocks = new Fireblocks({
      apiKey: admin.id,
      secretKey: admin.key.privateKeyPem,
      basePath,
    });
    const key = await testKey('fireblocks-sdk-created', 2048);
    const created = await fireblocks.apiUser.createApiUser({
      createAPIUser: { name: 'via-fireblocks-sdk', role: 'VIEWER', csrPem: key.csrPem },
    });
    expect(created.statusCode).toBe(200);
    const logs = await fireblocks.auditLogs.getAuditLogs({ timePeriod: 'DAY' });
    expect(logs.data.data?.some((e) => e.event === 'api_user.created')).toBe(true);
  });

  it('surfaces our error codes through the SDK', async () => {
    const fireblocks = new Fireblocks({
      apiKey: '00000000-0000-4000-8000-000000000000',
      secretKey: admin.key.privateKeyPem,
      basePath,
    });
    await expect(fireblocks.apiUser.getApiUsers()).rejects.toMatchObject({
      response: { statusCode: 401, data: { code: -7 } },
    });
  });
});
