import { Roles, type Role } from '@countersign/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionTable, roleHasPermission } from '../src/index.js';
import { workspacePermission } from '../src/auth/permissions.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

// OWNER belongs to a person, never to an API user; its rights are checked through the service layer.
const API_ROLES = Roles.filter((r): r is Exclude<Role, 'OWNER'> => r !== 'OWNER');
const DUMMY_UUID = '11111111-1111-4111-8111-111111111111';

describe('permission table', () => {
  let p: TestPlatform;
  const users = new Map<Role, TestApiUser>();

  beforeAll(async () => {
    p = await startTestPlatform();
    for (const role of API_ROLES)
      users.set(role, await createApiUser(p, `perm-${role.toLowerCase()}`, role));
  });
  afterAll(() => p.close());

  it('every route declares a permission that the table defines', () => {
    expect(p.app.routePermissions.length).toBeGreaterThan(8);
    for (const r of p.app.routePermissions) {
      expect(
        r.permission === 'public' ||
          r.permission === 'cosignerCredential' ||
          r.permission === 'cosigner' ||
          r.permission in permissionTable,
        `${r.method} ${r.url}`,
      ).toBe(true);
    }
  });

  it('each role reaches exactly the routes its permissions allow', async () => {
    let checked = 0;
    for (const route of p.app.routePermissions) {
      const permission = workspacePermission(route.permission);
      if (!permission) continue;
      const url = route.url.replace(/:[A-Za-z]+/g, DUMMY_UUID);
      for (const role of API_ROLES) {
        const res = await signedRequest(p, users.get(role)!, route.method as 'GET', url, {
          ...(route.method === 'GET' ? {} : { body: {} }),
        });
        const allowed = roleHasPermission(role, permission);
        if (allowed) {
          expect(
            [401, 403],
            `${role} ${route.method} ${route.url} → ${res.statusCode}`,
          ).not.toContain(res.statusCode);
        } else {
          expect(res.statusCode, `${role} ${route.method} ${route.url}`).toBe(403);
          expect(res.json()).toMatchObject({ code: -8 });
        }
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(API_ROLES.length * 8);
  });

  it('co-signer routes refuse API-user credentials and anonymous callers', async () => {
    const cosignerRoutes = p.app.routePermissions.filter(
      (r) => r.permission === 'cosignerCredential' || r.permission === 'cosigner',
    );
    expect(cosignerRoutes.length).toBeGreaterThanOrEqual(3);
    for (const route of cosignerRoutes) {
      expect(route.url.startsWith('/cosigner/v1/'), route.url).toBe(true);
      const res = await signedRequest(p, users.get('ADMIN')!, route.method as 'GET', route.url, {
        ...(route.method === 'GET' ? {} : { body: {} }),
      });
      expect([400, 401], `${route.method} ${route.url} → ${res.statusCode}`).toContain(
        res.statusCode,
      );
    }
  });

  it('public routes need no credentials', async () => {
    for (const route of p.app.routePermissions.filter((r) => r.permission === 'public')) {
      const res = await p.app.inject({ method: route.method as 'GET', url: route.url });
      expect(res.statusCode, route.url).toBe(200);
    }
  });
});
