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
    if (address.includes('%')) {
      throw new ValidationError(
        'ERR_IP_ALLOWLIST_INVALID',
        'IP_ALLOWLIST_INVALID',
        `IPv6 zone ids are not allowed: ${JSON.stringify(raw)}; give the address without "%zone"`,
      );
    }
    const normalised = normaliseIp(address);
    if (extra !== undefined || normalised === undefined) {
      throw new ValidationError(
        'ERR_IP_ALLOWLIST_INVALID',
        'IP_ALLOWLIST_INVALID',
        `Not an IP address: ${JSON.stringify(raw)}`,
      );
    }
    const single = isIP(address) === 4 ? '32' : '128';
    if (prefix !== undefined && prefix !== single) {
      throw new ValidationError(
        'ERR_IP_ALLOWLIST_RANGE',
        'IP_ALLOWLIST_INVALID',
        `Only single addresses are allowed (/${single}); ranges such as ${JSON.stringify(raw)} are rejected`,
      );
    }
    out.add(normalised);
  }
  return [...out];
}

/** Whether `clientIp` may use an API user with this allowlist; never throws. */
export function ipAllowed(allowlist: readonly string[], clientIp: string): boolean {
  if (allowlist.length === 0) return true;
  const normalised = normaliseIp(clientIp);
  return normalised !== undefined && allowlist.includes(normalised);
}

/**
 * The one spelling of an address that allowlist entries and client addresses
 * are compared in: IPv6 canonicalised first (RFC 5952, lower case, `::`
 * compression), then any IPv4-mapped address (`::ffff:0:0/96`, however it was
 * written: `::ffff:1.2.3.4`, `0:0:0:0:0:ffff:1.2.3.4`, `::ffff:0102:0304`) as
 * dotted IPv4, since a dual-stack socket reports IPv4 clients that way.
 *
 * Never throws: undefined for anything that is not a plain IP address,
 * including an IPv6 address with a zone id (`fe80::1%eth0`), which no
 * allowlist entry can name and which therefore matches nothing.
 */
export function normaliseIp(address: string): string | undefined {
  if (typeof address !== 'string' || address.includes('%')) return undefined;
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return undefined;
  const canonical = canonicalIpv6(address);
  if (canonical === undefined) return undefined;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped === null) return canonical;
  const high = parseInt(mapped[1] ?? '0', 16);
  const low = parseInt(mapped[2] ?? '0', 16);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** RFC 5952 form, by the WHATWG URL parser (which writes an embedded IPv4 part as hex). */
function canonicalIpv6(address: string): string | undefined {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}
