/**
 * CSR validation against CSRs made by the real `openssl` binary. openssl is a
 * hard requirement (CI installs it): without it these tests fail, they do not
 * skip.
 */
import { execFileSync } from 'node:child_process';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { ApiErrorCode } from '@countersign/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RSA_MODULUS_BITS, parseApiUserCsr } from '../src/api-users/csr.js';
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

/** DER TLV with a short or long definite length. */
function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}
const seq = (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items));
const OID_CN = Buffer.from('0603550403', 'hex'); // 2.5.4.3
const SHA256_WITH_RSA = Buffer.from('300d06092a864886f70d01010b0500', 'hex');

/** A Name of one RDN per value, each CN = the given raw TLV (tag + bytes). */
function cnName(...values: { tag: number; bytes: Uint8Array }[]): Buffer {
  return seq(...values.map(({ tag, bytes }) => tlv(0x31, seq(OID_CN, tlv(tag, bytes)))));
}

/**
 * A PKCS#10 request built byte by byte: any subject, any SPKI; signed with
 * `privateKey` (SHA-256, PKCS#1 v1.5) or, without one, a junk signature.
 */
function handMadeCsr(spki: Uint8Array, subject: Uint8Array, privateKey?: KeyObject): string {
  const info = seq(tlv(0x02, Buffer.from([0])), subject, spki, Buffer.from([0xa0, 0x00]));
  const signature = privateKey === undefined ? randomBytes(256) : sign('sha256', info, privateKey);
  return pem(seq(info, SHA256_WITH_RSA, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))));
}

/** SPKI of an RSA "key" with an arbitrary modulus size and exponent (not a real key). */
function fakeRsaSpki(modulusBits: number, exponent: bigint): Buffer {
  const bytes = randomBytes(Math.ceil(modulusBits / 8));
  const extra = bytes.length * 8 - modulusBits;
  bytes[0] = ((bytes[0] ?? 0) | 0x80) >> extra;
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) | 1;
  const hex = exponent.toString(16);
  const e = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  return createPublicKey({
    key: { kty: 'RSA', n: bytes.toString('base64url'), e: e.toString('base64url') },
    format: 'jwk',
  }).export({ type: 'spki', format: 'der' });
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

describe('parseApiUserCsr — subjects that must be stored and logged safely', () => {
  let signer: { spki: Buffer; privateKey: KeyObject };
  beforeAll(() => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    signer = { spki: publicKey.export({ type: 'spki', format: 'der' }), privateKey };
  });
  const subjectOf = (...values: { tag: number; bytes: Uint8Array }[]): string =>
    parseApiUserCsr(handMadeCsr(signer.spki, cnName(...values), signer.privateKey)).subject;
  const utf8 = (text: string): { tag: number; bytes: Buffer } => ({
    tag: 0x0c,
    bytes: Buffer.from(text, 'utf8'),
  });
  const bmp = (...units: number[]): { tag: number; bytes: Buffer } => ({
    tag: 0x1e,
    bytes: Buffer.from(units.flatMap((u) => [u >> 8, u & 0xff])),
  });
  /** Well-formed UTF-16 (no lone surrogate) and free of control characters. */
  const expectStorable = (subject: string): void => {
    expect(Buffer.from(subject, 'utf8').toString('utf8')).toBe(subject);
    expect(subject).not.toMatch(/\p{Cc}/u);
  };

  it('hex-escapes NUL and other C0/DEL/C1 control characters octet by octet (RFC 4514 \\xx)', () => {
    const subject = subjectOf(utf8('a\u0000b'), utf8('tab\there\r\n'), utf8('del\u007f c1\u0085'));
    expect(subject).toBe('CN=del\\7f c1\\c2\\85,CN=tab\\09here\\0d\\0a,CN=a\\00b');
    expectStorable(subject);
  });

  it('never produces a lone surrogate: an unpaired BMPString surrogate is written as #hex', () => {
    expect(subjectOf(bmp(0x61, 0xd800, 0x62))).toBe('CN=#1e060061d8000062');
    expect(subjectOf(bmp(0xdc00))).toBe('CN=#1e02dc00');
    expect(subjectOf(bmp(0xd83d))).toBe('CN=#1e02d83d');
    // A proper pair is text.
    expect(subjectOf(bmp(0x41, 0xd83d, 0xde00))).toBe('CN=A\u{1f600}');
  });

  it('writes undecodable values as #hex: invalid UTF-8, CESU surrogates, bad UniversalString, non-ASCII PrintableString', () => {
    expect(subjectOf({ tag: 0x0c, bytes: Buffer.from([0x61, 0xff]) })).toBe('CN=#0c0261ff');
    expect(subjectOf({ tag: 0x0c, bytes: Buffer.from([0xed, 0xa0, 0x80]) })).toBe('CN=#0c03eda080');
    expect(subjectOf({ tag: 0x1c, bytes: Buffer.from([0, 0x11, 0, 0]) })).toBe('CN=#1c0400110000');
    expect(subjectOf({ tag: 0x1c, bytes: Buffer.from([0, 0, 0xd8, 0]) })).toBe('CN=#1c040000d800');
    expect(subjectOf({ tag: 0x13, bytes: Buffer.from([0x41, 0xe9]) })).toBe('CN=#130241e9');
    // Valid UniversalString and BMPString are text; NUL inside them is escaped.
    expect(
      subjectOf({ tag: 0x1c, bytes: Buffer.from([0, 0, 0, 0x68, 0, 1, 0xf6, 0, 0, 0, 0, 0]) }),
    ).toBe('CN=h\u{1f600}\\00');
    expect(subjectOf(bmp(0x68, 0x00))).toBe('CN=h\\00');
  });

  it('every subject fits a PostgreSQL text column (fast-check over raw string bytes)', async () => {
    const db = new PGlite();
    try {
      // The failure mode this guards against: PostgreSQL refuses NUL in text.
      await expect(db.query('select $1::text', ['a\u0000b'])).rejects.toThrow();
      const subjects = fc.sample(
        fc.tuple(
          fc.constantFrom(0x0c, 0x13, 0x14, 0x16, 0x1c, 0x1e),
          fc.uint8Array({ maxLength: 12 }),
        ),
        { numRuns: 40, seed: 4514 },
      );
      let stored = 0;
      for (const [tag, bytes] of subjects) {
        let subject: string;
        try {
          subject = subjectOf({ tag, bytes });
        } catch (error) {
          // asn1js itself refuses some (an odd-length BMPString): a clean 400.
          expect(error).toBeInstanceOf(CsrError);
          continue;
        }
        stored++;
        expectStorable(subject);
        const { rows } = await db.query<{ t: string }>('select $1::text as t', [subject]);
        expect(rows[0]?.t).toBe(subject);
      }
      expect(stored).toBeGreaterThan(25);
    } finally {
      await db.close();
    }
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

  it(`refuses a modulus over ${MAX_RSA_MODULUS_BITS} bits (CPU cost of every verification): CSR_KEY_UNSUPPORTED`, () => {
    for (const bits of [8193, 8200, 16384]) {
      const csr = handMadeCsr(fakeRsaSpki(bits, 65537n), cnName());
      const error = expectRefused(csr, 'ERR_CSR_KEY_UNSUPPORTED', ApiErrorCode.CSR_KEY_UNSUPPORTED);
      expect(error.message).toMatch(new RegExp(`${bits} bits is not supported: at most 8192 bits`));
    }
    // 8192 bits passes the key checks and only fails on the (junk) signature.
    expectRefused(
      handMadeCsr(fakeRsaSpki(8192, 65537n), cnName()),
      'ERR_CSR_BAD_SIGNATURE',
      ApiErrorCode.CSR_BAD_SIGNATURE,
    );
  });

  it('refuses an even exponent or one ≥ 2^32: CSR_KEY_UNSUPPORTED; accepts odd 65537 ≤ e < 2^32', () => {
    for (const [e, shown] of [
      [65538n, '65538'],
      [2n ** 32n + 1n, '4294967297'],
      [2n ** 32n + 15n, '4294967311'],
      [2n ** 255n + 1n, 'of 256 bits'],
    ] as const) {
      const error = expectRefused(
        handMadeCsr(fakeRsaSpki(2048, e), cnName()),
        'ERR_CSR_KEY_UNSUPPORTED',
        ApiErrorCode.CSR_KEY_UNSUPPORTED,
      );
      expect(error.message).toBe(
        `RSA public exponent ${shown} is not supported: it must be odd, at least 65537 and below 2^32; use 65537`,
      );
    }
    for (const e of [65537n, 65539n, 2n ** 32n - 1n]) {
      expectRefused(
        handMadeCsr(fakeRsaSpki(2048, e), cnName()),
        'ERR_CSR_BAD_SIGNATURE',
        ApiErrorCode.CSR_BAD_SIGNATURE,
      );
    }
  });

  it('accepts a real key with a large 32-bit exponent (as some HSMs make)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicExponent: 0xffffffff,
    });
    const csr = handMadeCsr(
      publicKey.export({ type: 'spki', format: 'der' }),
      cnName({ tag: 0x0c, bytes: Buffer.from('hsm') }),
      privateKey,
    );
    expect(parseApiUserCsr(csr).subject).toBe('CN=hsm');
  });

  it('refuses a SHA-1 self-signature: CSR_BAD_SIGNATURE', () => {
    const { csr } = opensslCsr('sha1', ['-newkey', 'rsa:2048'], ['-subj', '/CN=old', '-sha1']);
    expect(
      expectRefused(csr, 'ERR_CSR_BAD_SIGNATURE', ApiErrorCode.CSR_BAD_SIGNATURE).message,
    ).toMatch(/not accepted/);
  });

  it('refuses a CSR whose signature byte was corrupted: CSR_BAD_SIGNATURE', () => {
    const bytes = der(rsa4096.csr);
    bytes[bytes.length - 1]! ^= 0x01; // last byte of the signature BIT STRING
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
