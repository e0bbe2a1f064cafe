/**
 * CSR validation against CSRs made by the real `openssl` binary. openssl is a
 * hard requirement (CI installs it): without it these tests fail, they do not
 * skip.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ApiErrorCode } from '@countersign/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiUserCsr } from '../src/api-users/csr.js';
import { CsrError, type CsrErrorCode } from '../src/api-users/csr-errors.js';
import { ValidationError } from '../src/errors.js';

let dir: string;

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `openssl req -new` with a fresh key; returns the CSR PEM and the key file name. */
function opensslCsr(
  name: string,
  keyArgs: string[],
  extra: string[] = [],
): { csr: string; key: string } {
  openssl(
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    ...extra,
  );
  return { csr: readFileSync(join(dir, `${name}.csr`), 'utf8'), key: `${name}.key` };
}

function der(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function pem(bytes: Uint8Array, label = 'CERTIFICATE REQUEST'): string {
  const lines =
    Buffer.from(bytes)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function refusal(input: string): CsrError {
  try {
    parseApiUserCsr(input);
  } catch (error) {
    if (error instanceof CsrError) return error;
    throw error;
  }
  throw new Error('CSR was accepted');
}

function expectRefused(input: string, code: CsrErrorCode, wire: number): CsrError {
  const error = refusal(input);
  expect(error.code).toBe(code);
  expect(error.apiCode).toBe(wire);
  expect(error.status).toBe(400);
  return error;
}

let rsa4096: { csr: string; key: string };
let rsa2048: { csr: string; key: string };

beforeAll(() => {
  // Fails the suite loudly when openssl is missing.
  expect(execFileSync('openssl', ['version'], { encoding: 'utf8' })).toMatch(/^OpenSSL 3\./);
  dir = mkdtempSync(join(tmpdir(), 'countersign-csr-'));
  rsa4096 = opensslCsr(
    'rsa4096',
    ['-newkey', 'rsa:4096'],
    ['-subj', '/CN=treasury-bot/O=Acme Ltd'],
  );
  rsa2048 = opensslCsr('rsa2048', ['-newkey', 'rsa:2048'], ['-subj', '/CN=small-bot/O=Acme Ltd']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseApiUserCsr — accepted', () => {
  it('accepts an openssl RSA-4096 CSR with no warning and returns its key and subject', () => {
    const parsed = parseApiUserCsr(rsa4096.csr);
    expect(parsed.modulusBits).toBe(4096);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.subject).toBe('O=Acme Ltd,CN=treasury-bot');
    // Same key as openssl extracts from the CSR, and as derived from the private key.
    const fromOpenssl = openssl('req', '-in', 'rsa4096.csr', '-noout', '-pubkey');
    expect(parsed.publicKeyPem.trim()).toBe(fromOpenssl.trim());
    const fromPrivate = createPublicKey(createPrivateKey(readFileSync(join(dir, rsa4096.key))));
    expect(fromPrivate.export({ type: 'spki', format: 'pem' })).toBe(parsed.publicKeyPem);
    expect(parsed.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('accepts RSA-2048 with a warning recommending 4096', () => {
    const parsed = parseApiUserCsr(rsa2048.csr);
    expect(parsed.modulusBits).toBe(2048);
    expect(parsed.warnings).toHaveLength(1);
    expect(parsed.warnings[0]).toMatch(/4096/);
  });

  it('formats the subject per RFC 4514, as openssl -nameopt RFC2253 does for the standard attributes', () => {
    const { csr } = opensslCsr(
      'escapes',
      ['-newkey', 'rsa:2048'],
      ['-utf8', '-subj', '/C=FR/ST=Île-de-France/O=Acme \\+ Co/OU= ops #1/CN=bot\\, "quoted"; <x>'],
    );
    const subject = parseApiUserCsr(csr).subject;
    expect(subject).toBe(
      'CN=bot\\, \\"quoted\\"\\; \\<x\\>,OU=\\ ops #1,O=Acme \\+ Co,ST=Île-de-France,C=FR',
    );
    const fromOpenssl = openssl(
      'req',
      '-in',
      'escapes.csr',
      '-noout',
      '-subject',
      '-nameopt',
      'RFC2253,-esc_msb',
    );
    expect(fromOpenssl.trim()).toBe(`subject=${subject}`);
  });

  it('writes attributes without an RFC 4514 short name as OID=#BER-hex', () => {
    const { csr } = opensslCsr(
      'email',
      ['-newkey', 'rsa:2048'],
      ['-subj', '/CN=a/emailAddress=a@b.c'],
    );
    // IA5String (0x16) of length 5.
    expect(parseApiUserCsr(csr).subject).toBe(
      `1.2.840.113549.1.9.1=#1605${Buffer.from('a@b.c').toString('hex')},CN=a`,
    );
  });

  it('accepts an RSASSA-PSS self-signature over an ordinary RSA key', () => {
    const { csr } = opensslCsr(
      'pss',
      ['-newkey', 'rsa:2048'],
      ['-subj', '/CN=pss', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'],
    );
    expect(csr).toBeTruthy();
    expect(parseApiUserCsr(csr).modulusBits).toBe(2048);
  });

  it('accepts CRLF line endings, surrounding whitespace and the legacy NEW CERTIFICATE REQUEST label', () => {
    expect(parseApiUserCsr(`\n  ${rsa2048.csr.replace(/\n/g, '\r\n')}  \n`).modulusBits).toBe(2048);
    expect(parseApiUserCsr(pem(der(rsa2048.csr), 'NEW CERTIFICATE REQUEST')).modulusBits).toBe(
      2048,
    );
  });
});

describe('parseApiUserCsr — refused', () => {
  it('refuses an EC key: CSR_KEY_NOT_RSA', () => {
    const { csr } = opensslCsr(
      'ec',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      ['-subj', '/CN=ec'],
    );
    expect(expectRefused(csr, 'ERR_CSR_KEY_NOT_RSA', ApiErrorCode.CSR_KEY_NOT_RSA).message).toMatch(
      /EC/,
    );
  });

  it('refuses an RSASSA-PSS-only key, which cannot sign RS256: CSR_KEY_NOT_RSA', () => {
    const { csr } = opensslCsr(
      'rsapss',
      ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'],
      ['-subj', '/CN=p'],
    );
    expectRefused(csr, 'ERR_CSR_KEY_NOT_RSA', ApiErrorCode.CSR_KEY_NOT_RSA);
  });

  it('refuses RSA-1024: CSR_KEY_TOO_SMALL', () => {
    const { csr } = opensslCsr('rsa1024', ['-newkey', 'rsa:1024'], ['-subj', '/CN=small']);
    expect(
      expectRefused(csr, 'ERR_CSR_KEY_TOO_SMALL', ApiErrorCode.CSR_KEY_TOO_SMALL).message,
    ).toMatch(/1024/);
  });

  it('refuses public exponent 3', () => {
    openssl(
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-pkeyopt',
      'rsa_keygen_pubexp:3',
      '-out',
      'e3.key',
    );
    openssl('req', '-new', '-key', 'e3.key', '-subj', '/CN=e3', '-out', 'e3.csr');
    const error = expectRefused(
      readFileSync(join(dir, 'e3.csr'), 'utf8'),
      'ERR_CSR_KEY_UNSUPPORTED',
      ApiErrorCode.CSR_KEY_UNSUPPORTED,
    );
    expect(error.message).toMatch(/exponent 3/);
  });

  it('refuses a SHA-1 self-signature: CSR_BAD_SIGNATURE', () => {
    const { csr } = opensslCsr('sha1', ['-newkey', 'rsa:2048'], ['-subj', '/CN=old', '-sha1']);
    expect(
      expectRefused(csr, 'ERR_CSR_BAD_SIGNATURE', ApiErrorCode.CSR_BAD_SIGNATURE).message,
    ).toMatch(/not accepted/);
  });

  it('refuses a CSR whose signature byte was corrupted: CSR_BAD_SIGNATURE', () => {
    const bytes = der(rsa4096.csr);
    bytes[bytes.length - 1] ^= 0x01; // last byte of the signature BIT STRING
    expectRefused(pem(bytes), 'ERR_CSR_BAD_SIGNATURE', ApiErrorCode.CSR_BAD_SIGNATURE);
  });

  it('refuses a CSR whose signed content was altered: CSR_BAD_SIGNATURE', () => {
    const bytes = der(rsa4096.csr);
    const at = bytes.indexOf(Buffer.from('treasury-bot'));
    expect(at).toBeGreaterThan(0);
    bytes[at] = 'T'.charCodeAt(0);
    expectRefused(pem(bytes), 'ERR_CSR_BAD_SIGNATURE', ApiErrorCode.CSR_BAD_SIGNATURE);
  });

  it('refuses garbage and non-PEM input: CSR_NOT_PEM', () => {
    for (const input of [
      '',
      'hello',
      der(rsa2048.csr).toString('base64'),
      '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----',
      '-----BEGIN CERTIFICATE REQUEST-----\nMIIB=AAA\n-----END CERTIFICATE REQUEST-----',
      '-----BEGIN CERTIFICATE REQUEST-----\n\n-----END CERTIFICATE REQUEST-----',
      rsa2048.csr.replace('-----END CERTIFICATE REQUEST-----', '-----END CERTIFICATE-----'),
      'x'.repeat(70_000),
    ]) {
      expectRefused(input, 'ERR_CSR_NOT_PEM', ApiErrorCode.CSR_NOT_PEM);
    }
    expectRefused(42 as unknown as string, 'ERR_CSR_NOT_PEM', ApiErrorCode.CSR_NOT_PEM);
  });

  it('refuses trailing junk, leading text and two CSRs in one input: CSR_NOT_PEM', () => {
    expectRefused(`${rsa2048.csr}junk`, 'ERR_CSR_NOT_PEM', ApiErrorCode.CSR_NOT_PEM);
    expectRefused(
      `Certificate Request:\n${rsa2048.csr}`,
      'ERR_CSR_NOT_PEM',
      ApiErrorCode.CSR_NOT_PEM,
    );
    expect(
      expectRefused(rsa2048.csr + rsa4096.csr, 'ERR_CSR_NOT_PEM', ApiErrorCode.CSR_NOT_PEM).message,
    ).toMatch(/exactly one/);
  });

  it('refuses a certificate PEM, saying it is a certificate: CSR_NOT_PEM', () => {
    openssl(
      'req',
      '-x509',
      '-key',
      rsa2048.key,
      '-subj',
      '/CN=cert',
      '-days',
      '1',
      '-out',
      'cert.pem',
    );
    const certificate = readFileSync(join(dir, 'cert.pem'), 'utf8');
    expect(expectRefused(certificate, 'ERR_CSR_NOT_PEM', ApiErrorCode.CSR_NOT_PEM).message).toMatch(
      /certificate, not/,
    );
    // The same bytes relabelled as a CSR are still not PKCS#10.
    expectRefused(pem(der(certificate)), 'ERR_CSR_NOT_PKCS10', ApiErrorCode.CSR_NOT_PKCS10);
  });

  it('refuses DER that is not PKCS#10 or carries trailing bytes: CSR_NOT_PKCS10', () => {
    expectRefused(
      pem(Buffer.from('not a certification request')),
      'ERR_CSR_NOT_PKCS10',
      ApiErrorCode.CSR_NOT_PKCS10,
    );
    expectRefused(
      pem(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])),
      'ERR_CSR_NOT_PKCS10',
      ApiErrorCode.CSR_NOT_PKCS10,
    );
    expectRefused(
      pem(Buffer.concat([der(rsa2048.csr), Buffer.from([0])])),
      'ERR_CSR_NOT_PKCS10',
      ApiErrorCode.CSR_NOT_PKCS10,
    );
  });

  it('raises a CsrError that the platform error handler maps as a 400 ValidationError', () => {
    const error = refusal('hello');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.name).toBe('CsrError');
  });

  it('never fails with anything but CsrError, whatever the bytes (fast-check)', () => {
    const valid = der(rsa2048.csr);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }).map((s) => s),
          fc.uint8Array({ maxLength: 600 }).map((b) => pem(b)),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => {
            const mutated = Buffer.from(valid);
            mutated[at] = (mutated[at] ?? 0) ^ flip;
            return pem(mutated);
          }),
        ),
        (input) => {
          try {
            parseApiUserCsr(input);
          } catch (error) {
            expect(error).toBeInstanceOf(CsrError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
