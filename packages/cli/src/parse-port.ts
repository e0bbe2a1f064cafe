import { UsageError } from './exit-codes.js';

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new UsageError(`--port must be 0..65535, got ${JSON.stringify(value)}`);
  return n;
}
