/** Platform configuration: everything a deployment may set, with safe defaults. */
import { isIP } from 'node:net';
import type { DatabaseOptions } from './db/connect.js';

export interface PlatformConfig {
  database: DatabaseOptions;
  /**
   * Honour X-Forwarded-For only behind a proxy you run: the number of proxy
   * hops in front of the platform, or the proxies' addresses (comma-separated
   * string or list; CIDR ranges and `loopback`/`linklocal`/`uniquelocal`
   * accepted). Never `true`: Fastify would then take the leftmost
   * X-Forwarded-For entry, which the client writes, and any client could
   * claim an allowlisted address.
   */
  trustProxy: false | number | string | string[];
  /** Tolerance for client clocks when checking `iat` and `exp`, in seconds (≤ 300). */
  clockSkewSeconds: number;
  /** Largest accepted request body. */
  bodyLimitBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Serve Prometheus metrics on /metrics. */
  metrics: boolean;
  /** Failed authentications audited per client address per minute; beyond it, 429. */
  authFailuresPerMinute: number;
  /** The assets and networks file (docs/vaults.md); unset: the shipped `assets.default.json`. */
  assetsFile?: string;
  /**
   * Presignatures (ECDSA) and FROST nonce sets (EdDSA) kept ready per signing share set
   * (docs/mpc-relay.md "PRESIGN"); 0 turns the pool off. Unset: the relay's default (8).
   */
  presignaturePoolSize?: number;
}

/**
 * Largest COUNTERSIGN_PRESIGNATURE_POOL: each co-signer keeps at most 80 per share set, this plus
 * the pool's MAKING_AT_ONCE and to spare.
 */
export const MAX_PRESIGNATURE_POOL = 64;

/** Largest COUNTERSIGN_CLOCK_SKEW_SECONDS: beyond it a captured JWT stays replayable too long. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

const LOG_LEVELS: readonly PlatformConfig['logLevel'][] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export const defaultConfig: PlatformConfig = {
  database: { dataDir: '.countersign/db' },
  trustProxy: false,
  clockSkewSeconds: 5,
  bodyLimitBytes: 1024 * 1024,
  logLevel: 'info',
  metrics: true,
  authFailuresPerMinute: 60,
};

/**
 * Reads the environment variables a deployment sets; unset ones keep the
 * defaults. Throws an Error with a message fit for the operator on a value it
 * cannot use:
 * - COUNTERSIGN_TRUST_PROXY: hop count or proxy address(es), `false`; never `true`;
 * - COUNTERSIGN_CLOCK_SKEW_SECONDS: integer 0–300;
 * - COUNTERSIGN_METRICS: `true` (default) or `false` (no /metrics route);
 * - COUNTERSIGN_ASSETS_FILE: the assets and networks file, checked when the app is built;
 * - COUNTERSIGN_PRESIGNATURE_POOL: ECDSA presignatures kept ready per signer, integer 0–64;
 * - LOG_LEVEL: a pino level.
 */
export function configFromEnv(
  env: NodeJS.ProcessEnv,
  base: PlatformConfig = defaultConfig,
): PlatformConfig {
  const skew = env['COUNTERSIGN_CLOCK_SKEW_SECONDS'];
  const trustProxy = env['COUNTERSIGN_TRUST_PROXY'];
  const metrics = env['COUNTERSIGN_METRICS'];
  const logLevel = env['LOG_LEVEL'];
  const assetsFile = env['COUNTERSIGN_ASSETS_FILE'];
  const pool = env['COUNTERSIGN_PRESIGNATURE_POOL'];
  return {
    ...base,
    database: {
      ...base.database,
      ...(env['DATABASE_URL'] ? { databaseUrl: env['DATABASE_URL'] } : {}),
      ...(env['COUNTERSIGN_DATA_DIR'] ? { dataDir: env['COUNTERSIGN_DATA_DIR'] } : {}),
    },
    ...(skew !== undefined && skew !== '' ? { clockSkewSeconds: parseClockSkew(skew) } : {}),
    ...(trustProxy !== undefined ? { trustProxy: parseTrustProxy(trustProxy) } : {}),
    ...(metrics !== undefined && metrics !== ''
      ? { metrics: parseBoolean('COUNTERSIGN_METRICS', metrics) }
      : {}),
    ...(logLevel ? { logLevel: parseLogLevel(logLevel) } : {}),
    ...(assetsFile ? { assetsFile } : {}),
    ...(pool !== undefined && pool !== '' ? { presignaturePoolSize: parsePoolSize(pool) } : {}),
  };
}

function parsePoolSize(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_PRESIGNATURE_POOL) {
    throw new Error(
      `COUNTERSIGN_PRESIGNATURE_POOL must be an integer from 0 (no pool) to ${MAX_PRESIGNATURE_POOL}; got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function parseClockSkew(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_CLOCK_SKEW_SECONDS) {
    throw new Error(
      `COUNTERSIGN_CLOCK_SKEW_SECONDS must be an integer from 0 to ${MAX_CLOCK_SKEW_SECONDS} (seconds); got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function parseBoolean(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error(`${name} must be true or false; got ${JSON.stringify(value)}`);
}

function parseLogLevel(value: string): PlatformConfig['logLevel'] {
  const level = LOG_LEVELS.find((l) => l === value.trim().toLowerCase());
  if (level === undefined) {
    throw new Error(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(value)}`,
    );
  }
  return level;
}

/** proxy-addr's named ranges, which Fastify accepts among the addresses. */
const NAMED_PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(value: string): PlatformConfig['trustProxy'] {
  const v = value.trim();
  if (v === '' || v.toLowerCase() === 'false') return false;
  if (v.toLowerCase() === 'true') {
    throw new Error(
      'COUNTERSIGN_TRUST_PROXY=true is refused: it would trust the leftmost X-Forwarded-For entry, which the client writes, so any client could claim an allowlisted IP address. ' +
        'Set it to the address(es) of your reverse proxy (comma-separated, e.g. 10.0.0.5 or 10.0.0.5,10.0.0.6), or to the number of proxy hops in front of the platform (e.g. 1).',
    );
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (!Number.isSafeInteger(hops))
      throw new Error('COUNTERSIGN_TRUST_PROXY hop count is too large');
    return hops === 0 ? false : hops;
  }
  const entries = v.split(',').map((s) => s.trim());
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const validPrefix =
      prefix === undefined ||
      (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
    const valid =
      NAMED_PROXY_RANGES.has(entry) || (family !== 0 && validPrefix && extra === undefined);
    if (!valid) {
      throw new Error(
        `COUNTERSIGN_TRUST_PROXY must be a proxy hop count or comma-separated proxy addresses (IP, CIDR, loopback, linklocal, uniquelocal); ${JSON.stringify(entry)} is none of these`,
      );
    }
  }
  return entries;
}
