/** Console-user passwords: scrypt parameters, older hashes, and sign-in across workspaces. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, SCRYPT_PARAMS, verifyPassword } from '../src/workspaces/password-hash.js';
import { startTestPlatform, type TestPlatform } from './helpers/test-platform.js';

describe('password hashing', () => {
  it('hashes with scrypt N=2^17, r=8, p=1 (OWASP) and verifies', async () => {
    expect(SCRYPT_PARAMS).toEqual({ N: 131072, r: 8, p: 1 });
    const encoded = await hashPassword('correct horse battery');
    expect(encoded).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await verifyPassword('correct horse battery', encoded)).toBe(true);
    expect(await verifyPassword('correct horse batterY', encoded)).toBe(false);
  });

  it('still verifies a hash made before the raise (N=2^15), by its stored parameters', async () => {
    const old = await hashPassword('an older password', { N: 1 << 15, r: 8, p: 1 });
    expect(old).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword('an older password', old)).toBe(true);
    expect(await verifyPassword('another password', old)).toBe(false);
  });

  it('refuses malformed or out-of-bounds stored parameters without running scrypt on them', async () => {
    const good = await hashPassword('pw', { N: 1 << 14, r: 8, p: 1 });
    const [, , , , salt, key] = good.split('$');
    for (const encoded of [
      `scrypt$1048576$8$1$${salt}$${key}`, // 1 GiB of memory
      `scrypt$100000$8$1$${salt}$${key}`, // not a power of two
      `scrypt$1024$8$1$${salt}$${key}`, // too weak to be ours
      `scrypt$16384$64$1$${salt}$${key}`,
      `scrypt$16384$8$1$${salt}$${key}$extra`,
      `argon2$16384$8$1$${salt}$${key}`,
      `scrypt$16384$8$1$${salt}$AAAA`,
      '',
    ]) {
      expect(await verifyPassword('pw', encoded), encoded).toBe(false);
    }
    expect(await verifyPassword('pw', good)).toBe(true);
  });
});

describe('WorkspaceService.signIn', () => {
  let p: TestPlatform;
  const email = 'shared-owner@example.test';
  const password = 'the same password in both';
  let first: string;
  let second: string;

  beforeAll(async () => {
    p = await startTestPlatform();
    const workspaces = p.app.services.workspaces;
    first = (await workspaces.create({ name: 'One', ownerEmail: email, ownerPassword: password }))
      .workspaceId;
    second = (await workspaces.create({ name: 'Two', ownerEmail: email, ownerPassword: password }))
      .workspaceId;
    await workspaces.create({
      name: 'Three',
      ownerEmail: email,
      ownerPassword: 'a different password',
    });
  });
  afterAll(() => p.close());

  it('does not pick a workspace when the same email and password are valid in several', async () => {
    const result = await p.app.services.workspaces.signIn(email, password);
    expect(result.outcome).toBe('ambiguous');
    if (result.outcome !== 'ambiguous') return;
    expect([...result.workspaceIds].sort()).toEqual([first, second].sort());
  });

  it('signs in to the workspace named by its id', async () => {
    for (const workspaceId of [first, second]) {
      const result = await p.app.services.workspaces.signIn(email, password, workspaceId);
      expect(result.outcome).toBe('signed-in');
      if (result.outcome !== 'signed-in') return;
      expect(result.principal).toMatchObject({ workspaceId, role: 'OWNER', name: email });
    }
  });

  it('answers invalid for a wrong password, an unknown email, or a workspace id that is not a UUID', async () => {
    const workspaces = p.app.services.workspaces;
    expect(await workspaces.signIn(email, 'wrong password!', first)).toEqual({
      outcome: 'invalid',
    });
    expect(await workspaces.signIn('nobody@example.test', password)).toEqual({
      outcome: 'invalid',
    });
    expect(await workspaces.signIn(email, password, 'not-a-uuid')).toEqual({ outcome: 'invalid' });
  });

  it('a password valid in only one workspace signs in there without a workspace id', async () => {
    const result = await p.app.services.workspaces.signIn(email, 'a different password');
    expect(result.outcome).toBe('signed-in');
  });
});
