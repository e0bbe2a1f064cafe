import { describe, expect, it } from 'vitest';
import { configFromEnv, defaultConfig } from '../src/config.js';

describe('configFromEnv', () => {
  it('keeps the defaults when nothing is set', () => {
    expect(configFromEnv({})).toEqual(defaultConfig);
    expect(defaultConfig.trustProxy).toBe(false);
    expect(defaultConfig.metrics).toBe(true);
  });

  describe('COUNTERSIGN_TRUST_PROXY', () => {
    const trust = (value: string): unknown =>
      configFromEnv({ COUNTERSIGN_TRUST_PROXY: value }).trustProxy;

    it('refuses true (client-controlled leftmost X-Forwarded-For), saying what to give instead', () => {
      for (const value of ['true', 'TRUE', ' True ']) {
        expect(() => trust(value)).toThrow(/COUNTERSIGN_TRUST_PROXY=true is refused/);
      }
      expect(() => trust('true')).toThrow(/address\(es\) of your reverse proxy/);
      expect(() => trust('true')).toThrow(/number of proxy hops/);
    });

    it('takes a hop count, proxy addresses, CIDR ranges and proxy-addr names', () => {
      expect(trust('1')).toBe(1);
      expect(trust('2')).toBe(2);
      expect(trust('0')).toBe(false);
      expect(trust('false')).toBe(false);
      expect(trust('')).toBe(false);
      expect(trust('10.0.0.5')).toEqual(['10.0.0.5']);
      expect(trust('10.0.0.5, 10.0.0.6,2001:db8::1')).toEqual([
        '10.0.0.5',
        '10.0.0.6',
        '2001:db8::1',
      ]);
      expect(trust('10.0.0.0/8,loopback,fd00::/8')).toEqual(['10.0.0.0/8', 'loopback', 'fd00::/8']);
    });

    it('refuses anything else with a clear message', () => {
      for (const value of ['yes', '*', '10.0.0.5,', '10.0.0.0/33', '10.0.0.5/8/1', 'proxy.local']) {
        expect(() => trust(value), value).toThrow(/hop count or comma-separated proxy addresses/);
      }
    });
  });

  describe('COUNTERSIGN_CLOCK_SKEW_SECONDS', () => {
    const skew = (value: string): number =>
      configFromEnv({ COUNTERSIGN_CLOCK_SKEW_SECONDS: value }).clockSkewSeconds;

    it('accepts 0 to 300 seconds', () => {
      expect(skew('0')).toBe(0);
      expect(skew('30')).toBe(30);
      expect(skew('300')).toBe(300);
      expect(skew('')).toBe(defaultConfig.clockSkewSeconds);
    });

    it('refuses more than 300, negatives and non-integers', () => {
      for (const value of ['301', '86400', '-1', '1.5', ' ', 'ten', '1e3']) {
        expect(() => skew(value), value).toThrow(
          /COUNTERSIGN_CLOCK_SKEW_SECONDS must be an integer from 0 to 300/,
        );
      }
    });
  });

  describe('COUNTERSIGN_METRICS', () => {
    const metrics = (value: string): boolean =>
      configFromEnv({ COUNTERSIGN_METRICS: value }).metrics;

    it('false turns /metrics off; true or unset keeps it', () => {
      expect(metrics('false')).toBe(false);
      expect(metrics('0')).toBe(false);
      expect(metrics('true')).toBe(true);
      expect(metrics('')).toBe(true);
      expect(configFromEnv({}).metrics).toBe(true);
    });

    it('refuses other values', () => {
      expect(() => metrics('off')).toThrow(/COUNTERSIGN_METRICS must be true or false/);
    });
  });

  it('reads DATABASE_URL, COUNTERSIGN_DATA_DIR and LOG_LEVEL, refusing an unknown level', () => {
    const config = configFromEnv({
      DATABASE_URL: 'postgres://db/x',
      COUNTERSIGN_DATA_DIR: '/var/lib/countersign',
      LOG_LEVEL: 'warn',
    });
    expect(config.database).toEqual({
      dataDir: '/var/lib/countersign',
      databaseUrl: 'postgres://db/x',
    });
    expect(config.logLevel).toBe('warn');
    expect(() => configFromEnv({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of/);
  });

  it('COUNTERSIGN_PRESIGNATURE_POOL: 0 to 64 presignatures per signer, else a clear error', () => {
    const pool = (value: string) =>
      configFromEnv({ COUNTERSIGN_PRESIGNATURE_POOL: value }).presignaturePoolSize;
    expect(pool('0')).toBe(0);
    expect(pool(' 16 ')).toBe(16);
    expect(pool('64')).toBe(64);
    expect(pool('')).toBeUndefined();
    for (const value of ['65', '-1', '8.5', 'eight', '1e1'])
      expect(() => pool(value), value).toThrow(
        /COUNTERSIGN_PRESIGNATURE_POOL must be an integer from 0 \(no pool\) to 64/,
      );
  });
});
