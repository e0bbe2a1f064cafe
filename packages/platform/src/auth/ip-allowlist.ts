/**
 * Per-API-user IP allowlists: single addresses only (`/32`, `/128`), because a
 * range is a decision about networks we cannot see. An empty list allows any
 * address.
 */
import { isIP } from 'node:net';
import { ValidationError } from '../errors.js';

/** Validates and normalises entries; throws a ValidationError naming the first bad one. */
export function parseIpAllowlist(entries: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    if (extra !== undefined || family === 0) {
      throw new ValidationError(
        'ERR_IP_ALLOWLIST_INVALID',
        'IP_ALLOWLIST_INVALID',
        `Not an IP address: ${JSON.stringify(raw)}`,
      );
    }
    const single = family === 4 ? '32' : '128';
    if (prefix !== undefined && prefix !== single) {
      throw new ValidationError(
        'ERR_IP_ALLOWLIST_RANGE',
        'IP_ALLOWLIST_INVALID',
        `Only single addresses are allowed (/${single}); ranges such as ${JSON.stringify(raw)} are rejected`,
      );
    }
    out.add(normaliseIp(address));
  }
  return [...out];
}

export function ipAllowed(allowlist: readonly string[], clientIp: string): boolean {
  if (allowlist.length === 0) return true;
  return allowlist.includes(normaliseIp(clientIp));
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is the IPv4 address; IPv6 in its canonical form. */
export function normaliseIp(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) === 6) return canonicalIpv6(address);
  return address;
}

function canonicalIpv6(address: string): string {
  // The URL parser canonicalises IPv6 hosts (RFC 5952 form).
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}
