import { ApiErrorCode } from '@countersign/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipAllowed, normaliseIp, parseIpAllowlist } from '../src/auth/ip-allowlist.js';
import { ValidationError } from '../src/errors.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('IP allowlist', () => {
  it('keeps single addresses and refuses ranges and non-addresses', () => {
    expect(
      parseIpAllowlist(['10.0.0.1', '10.0.0.2/32', '2001:DB8::1/128', '::ffff:10.0.0.3']),
    ).toEqual(['10.0.0.1', '10.0.0.2', '2001:db8::1', '10.0.0.3']);
    expect(() => parseIpAllowlist(['10.0.0.0/24'])).toThrow(/single addresses/);
    expect(() => parseIpAllowlist(['2001:db8::/64'])).toThrow(/single addresses/);
    expect(() => parseIpAllowlist(['example.com'])).toThrow(/Not an IP/);
    expect(() => parseIpAllowlist(['1.2.3.4/32/1'])).toThrow(/Not an IP/);
  });

  it('maps every spelling of an IPv4-mapped IPv6 address to dotted IPv4, after canonicalising', () => {
    for (const spelling of [
      '::ffff:1.2.3.4',
      '::FFFF:1.2.3.4',
      '0:0:0:0:0:ffff:1.2.3.4',
      '0000:0000:0000:0000:0000:FFFF:0102:0304',
      '::ffff:0102:0304',
      '::ffff:102:304',
    ]) {
      expect(normaliseIp(spelling), spelling).toBe('1.2.3.4');
    }
    expect(parseIpAllowlist(['0:0:0:0:0:ffff:10.0.0.3/128', '::ffff:0a00:0004'])).toEqual([
      '10.0.0.3',
      '10.0.0.4',
    ]);
    expect(ipAllowed(['1.2.3.4'], '0:0:0:0:0:ffff:0102:0304')).toBe(true);
    expect(ipAllowed(['1.2.3.4'], '::ffff:1.2.3.5')).toBe(false);
    // Not IPv4-mapped: IPv4-compatible (deprecated) and other ::/96 forms stay IPv6.
    expect(normaliseIp('::1.2.3.4')).toBe('::102:304');
    expect(normaliseIp('::fffe:1.2.3.4')).toBe('::fffe:102:304');
    expect(normaliseIp('2001:0DB8:0:0::0001')).toBe('2001:db8::1');
  });

  it('refuses zone ids in entries with IP_ALLOWLIST_INVALID', () => {
    for (const entry of ['fe80::1%eth0', 'fe80::1%eth0/128', 'fe80::1%25eth0', '%']) {
      let error: unknown;
      try {
        parseIpAllowlist([entry]);
      } catch (e) {
        error = e;
      }
      expect(error, entry).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).apiCode).toBe(ApiErrorCode.IP_ALLOWLIST_INVALID);
      expect((error as ValidationError).message).toMatch(/zone ids are not allowed/);
    }
  });

  it('never throws on a client address: a zone id or junk matches no entry', () => {
    for (const address of ['fe80::1%eth0', 'fe80::1%25', '::ffff:1.2.3.4%0', 'junk', '', '[::1]']) {
      expect(normaliseIp(address), address).toBeUndefined();
      expect(ipAllowed(['fe80::1', '1.2.3.4', '::1'], address), address).toBe(false);
      // An empty list still allows any address.
      expect(ipAllowed([], address)).toBe(true);
    }
  });

  describe('enforcement', () => {
    let p: TestPlatform;
    let admin: TestApiUser;
    let bot: TestApiUser;
    const URL = '/v1/countersign/session';

    beforeAll(async () => {
      p = await startTestPlatform({ trustProxy: '127.0.0.1' });
      admin = await createApiUser(p, 'ip-admin', 'ADMIN');
      bot = await createApiUser(p, 'ip-bot', 'VIEWER');
    });
    afterAll(() => p.close());

    it('empty list allows any address; a set list allows only its addresses', async () => {
      expect(
        (await signedRequest(p, bot, 'GET', URL, { remoteAddress: '203.0.113.9' })).statusCode,
      ).toBe(200);
      const set = await signedRequest(
        p,
        admin,
        'PUT',
        `/v1/countersign/api_users/${bot.id}/ip_allowlist`,
        {
          body: { addresses: ['198.51.100.7/32'] },
        },
      );
      expect(set.statusCode).toBe(200);
      expect(set.json()).toMatchObject({ userId: bot.id, whitelistedIps: ['198.51.100.7'] });
      const get = await signedRequest(
        p,
        admin,
        'GET',
        `/v1/management/api_users/${bot.id}/whitelist_ip_addresses`,
      );
      expect(get.json().whitelistedIps).toEqual(['198.51.100.7']);

      expect(
        (await signedRequest(p, bot, 'GET', URL, { remoteAddress: '198.51.100.7' })).statusCode,
      ).toBe(200);
      const denied = await signedRequest(p, bot, 'GET', URL, { remoteAddress: '203.0.113.9' });
      expect(denied.statusCode).toBe(401);
      expect(denied.json().code).toBe(-7);
    });

    it('honours X-Forwarded-For only from a trusted proxy', async () => {
      const viaProxy = await signedRequest(p, bot, 'GET', URL, {
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      expect(viaProxy.statusCode).toBe(200);
      const spoofed = await signedRequest(p, bot, 'GET', URL, {
        remoteAddress: '203.0.113.9',
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      expect(spoofed.statusCode).toBe(401);
    });

    it('rejects a range with a clear error', async () => {
      const res = await signedRequest(
        p,
        admin,
        'PUT',
        `/v1/countersign/api_users/${bot.id}/ip_allowlist`,
        {
          body: { addresses: ['198.51.100.0/24'] },
        },
      );
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 1106, message: expect.stringMatching(/ranges/) });
    });
  });

  it('without trustProxy, X-Forwarded-For is ignored', async () => {
    const p = await startTestPlatform();
    try {
      const admin = await createApiUser(p, 'ip-admin2', 'ADMIN');
      await p.app.services.apiUsers.requestIpAllowlist(p.owner, admin.id, ['198.51.100.7']);
      const res = await signedRequest(p, admin, 'GET', '/v1/countersign/session', {
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      expect(res.statusCode).toBe(401);
    } finally {
      await p.close();
    }
  });
});
