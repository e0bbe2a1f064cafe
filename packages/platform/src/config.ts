/** Platform configuration: everything a deployment may set, with safe defaults. */
import type { DatabaseOptions } from './db/connect.js';

export interface PlatformConfig {
  database: DatabaseOptions;
  /** Honour X-Forwarded-For only behind a proxy you run: true, a hop count, or proxy addresses. */
  trustProxy: boolean | number | string | string[];
  /** Tolerance for client clocks when checking `iat` and `exp`, in seconds. */
  clockSkewSeconds: number;
  /** Largest accepted request body. */
  bodyLimitBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Serve Prometheus metrics on /metrics. */
  metrics: boolean;
  /** Failed authentications audited per client address per minute; beyond it, 429. */
  authFailuresPerMinute: number;
}

export const defaultConfig: PlatformConfig = {
  database: { dataDir: '.countersign/db' },
  trustProxy: false,
  clockSkewSeconds: 5,
  bodyLimitBytes: 1024 * 1024,
  logLevel: 'info',
  metrics: true,
  authFailuresPerMinute: 60,
};

/** Reads the environment variables a deployment sets; unset ones keep the defaults. */
export function configFromEnv(
  env: NodeJS.ProcessEnv,
  base: PlatformConfig = defaultConfig,
): PlatformConfig {
  const skew = env['COUNTERSIGN_CLOCK_SKEW_SECONDS'];
  const trustProxy = env['COUNTERSIGN_TRUST_PROXY'];
  return {
    ...base,
    database: {
      ...base.database,
      ...(env['DATABASE_URL'] ? { databaseUrl: env['DATABASE_URL'] } : {}),
      ...(env['COUNTERSIGN_DATA_DIR'] ? { dataDir: env['COUNTERSIGN_DATA_DIR'] } : {}),
    },
    ...(skew !== undefined
      ? { clockSkewSeconds: parseNonNegativeInt('COUNTERSIGN_CLOCK_SKEW_SECONDS', skew) }
      : {}),
    ...(trustProxy !== undefined ? { trustProxy: parseTrustProxy(trustProxy) } : {}),
    ...(env['LOG_LEVEL'] ? { logLevel: env['LOG_LEVEL'] as PlatformConfig['logLevel'] } : {}),
  };
}

function parseNonNegativeInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

function parseTrustProxy(value: string): PlatformConfig['trustProxy'] {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((s) => s.trim());
}
