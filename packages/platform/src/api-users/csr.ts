/**
 * Validation of the PKCS#10 certificate signing request (RFC 2986) an API
 * user is created from. The CSR's only job here is to deliver the RSA public
 * key that will verify the user's RS256 request JWTs, with proof that the
 * submitter holds the private key (the self-signature, RFC 2986 §3 and §4.2).
 *
 * Synchronous and free of global state: ASN.1 structure by
 * @peculiar/asn1-csr, key and signature by node:crypto. (@peculiar/x509 is
 * not used here: it needs a global Reflect polyfill and verifies only
 * asynchronously.)
 *
 * Policy:
 * - exactly one PEM block labelled CERTIFICATE REQUEST (or the legacy NEW
 *   CERTIFICATE REQUEST), nothing else around it but whitespace;
 * - an rsaEncryption key (RSASSA-PSS-only keys cannot sign RS256);
 * - modulus ≥ 2048 bits, < 4096 accepted with a warning, ≤ 8192;
 * - public exponent odd and 65537 ≤ e < 2^32: keys from HSMs do not always
 *   use 65537, but e = 3 is refused. FIPS 186-5 §5.4 allows up to 2^256, but
 *   every later request JWT is verified with this key, and verification cost
 *   grows with the modulus (more than quadratically) and with the exponent's
 *   bit length: a 16384-bit modulus costs ~6× an 8192-bit one and a 256-bit
 *   exponent ~15× e = 65537, per request — a CPU denial of service open to
 *   anyone who holds the API key;
 * - self-signature sha256/384/512WithRSAEncryption or RSASSA-PSS with
 *   SHA-256/384/512 and MGF1 of the same hash; SHA-1 and MD5 are refused.
 */
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { CsrError } from './csr-errors.js';
import { formatRfc4514, MalformedNameError, requestInfoSubjectDer } from './csr-subject.js';

export interface ApiUserCsr {
  /** The RSA public key, SPKI PEM: what verifies the API user's JWTs. */
  publicKeyPem: string;
  /** RFC 4514 string of the CSR subject. */
  subject: string;
  modulusBits: number;
  /** Accepted but worth telling the admin (e.g. 2048-bit key). */
  warnings: string[];
}

export const MIN_RSA_MODULUS_BITS = 2048;
export const RECOMMENDED_RSA_MODULUS_BITS = 4096;
export const MAX_RSA_MODULUS_BITS = 8192;
/** Public exponents must be below 2^32 (and ≥ 65537, odd). */
export const MAX_RSA_PUBLIC_EXPONENT_BITS = 32;
/** Matches the API schema's `csrPem` limit; an 8192-bit CSR is well under it. */
export const MAX_CSR_PEM_LENGTH = 65536;

const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_MGF1 = '1.2.840.113549.1.1.8';
const PKCS1_SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const DIGESTS: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const KEY_ALGORITHM_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.10045.2.1': 'EC',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.10040.4.1': 'DSA',
  [OID_RSASSA_PSS]: 'RSASSA-PSS-only RSA (cannot sign RS256)',
};

export function parseApiUserCsr(pem: string): ApiUserCsr {
  const der = decodeCsrPem(pem);
  const request = decodePkcs10(der);
  const { key, modulusBits } = rsaPublicKey(request);
  verifySelfSignature(request, key);
  const warnings: string[] = [];
  if (modulusBits < RECOMMENDED_RSA_MODULUS_BITS) {
    warnings.push(
      `RSA key of ${modulusBits} bits accepted; ${RECOMMENDED_RSA_MODULUS_BITS} bits is recommended`,
    );
  }
  return {
    publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    subject: formatSubject(request),
    modulusBits,
    warnings,
  };
}

/** RFC 4514 string of the subject exactly as signed (see csr-subject.ts). */
function formatSubject(request: CertificationRequest): string {
  try {
    return formatRfc4514(
      requestInfoSubjectDer(
        new Uint8Array(request.certificationRequestInfoRaw ?? new ArrayBuffer(0)),
      ),
    );
  } catch (cause) {
    if (!(cause instanceof MalformedNameError)) throw cause;
    throw new CsrError('ERR_CSR_NOT_PKCS10', 'CSR subject is not a DER-encoded X.501 name', {
      cause,
    });
  }
}

/** RFC 7468 §2 "strict" form, one block; returns the DER. */
function decodeCsrPem(pem: unknown): Uint8Array {
  if (typeof pem !== 'string') throw new CsrError('ERR_CSR_NOT_PEM', 'CSR must be a PEM string');
  if (pem.length > MAX_CSR_PEM_LENGTH) {
    throw new CsrError(
      'ERR_CSR_NOT_PEM',
      `CSR PEM is longer than ${MAX_CSR_PEM_LENGTH} characters`,
    );
  }
  const text = pem.trim();
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]);
  if (labels.length !== 1) {
    throw new CsrError(
      'ERR_CSR_NOT_PEM',
      labels.length === 0
        ? 'CSR is not PEM: no "-----BEGIN CERTIFICATE REQUEST-----" line'
        : `CSR must be exactly one PEM block; found ${labels.length}`,
    );
  }
  const label = labels[0];
  if (label !== 'CERTIFICATE REQUEST' && label !== 'NEW CERTIFICATE REQUEST') {
    throw new CsrError(
      'ERR_CSR_NOT_PEM',
      label === 'CERTIFICATE'
        ? 'This is a certificate, not a certificate signing request (CSR)'
        : `PEM block is "${label}", expected "CERTIFICATE REQUEST"`,
    );
  }
  const match = /^-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\s]*?)-----END \1-----$/.exec(text);
  if (match === null) {
    throw new CsrError(
      'ERR_CSR_NOT_PEM',
      'CSR PEM must contain only base64 between its BEGIN and END lines, and nothing after',
    );
  }
  const base64 = (match[2] ?? '').replace(/\s+/g, '');
  if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new CsrError('ERR_CSR_NOT_PEM', 'CSR PEM body is not valid base64');
  }
  const der = Buffer.from(base64, 'base64');
  // Buffer.from ignores stray bits; a round trip proves the encoding is canonical.
  if (der.toString('base64') !== base64) {
    throw new CsrError('ERR_CSR_NOT_PEM', 'CSR PEM body is not valid base64');
  }
  return der;
}

function decodePkcs10(der: Uint8Array): CertificationRequest {
  if (outerLength(der) !== der.length) {
    throw new CsrError('ERR_CSR_NOT_PKCS10', 'CSR is not PKCS#10: not a single DER structure');
  }
  let request: CertificationRequest;
  try {
    request = AsnConvert.parse(der, CertificationRequest);
  } catch (cause) {
    throw new CsrError('ERR_CSR_NOT_PKCS10', 'CSR is not a PKCS#10 certification request', {
      cause,
    });
  }
  if (request.certificationRequestInfo.version !== 0) {
    throw new CsrError('ERR_CSR_NOT_PKCS10', 'CSR is not PKCS#10 version 1');
  }
  if (request.certificationRequestInfoRaw === undefined) {
    throw new CsrError('ERR_CSR_NOT_PKCS10', 'CSR is not a PKCS#10 certification request');
  }
  return request;
}

/** Bytes spanned by the first TLV (X.690 §8.1); -1 when the header is malformed. */
function outerLength(der: Uint8Array): number {
  if (der.length < 2 || der[0] !== 0x30) return -1;
  const first = der[1] ?? 0;
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || der.length < 2 + count) return -1;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[2 + i] ?? 0);
  return 2 + count + length;
}

function rsaPublicKey(request: CertificationRequest): { key: KeyObject; modulusBits: number } {
  const spki = request.certificationRequestInfo.subjectPKInfo;
  const oid = spki.algorithm.algorithm;
  if (oid !== OID_RSA_ENCRYPTION) {
    throw new CsrError(
      'ERR_CSR_KEY_NOT_RSA',
      `CSR key must be RSA; it is ${KEY_ALGORITHM_NAMES[oid] ?? `algorithm ${oid}`}`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.from(AsnConvert.serialize(spki)),
      format: 'der',
      type: 'spki',
    });
  } catch (cause) {
    throw new CsrError('ERR_CSR_KEY_NOT_RSA', 'CSR public key is not a valid RSA key', { cause });
  }
  const details = key.asymmetricKeyDetails;
  const modulusBits = details?.modulusLength ?? 0;
  const exponent = details?.publicExponent ?? 0n;
  if (modulusBits < MIN_RSA_MODULUS_BITS) {
    throw new CsrError(
      'ERR_CSR_KEY_TOO_SMALL',
      `RSA key of ${modulusBits} bits is too small; at least ${MIN_RSA_MODULUS_BITS} bits required (${RECOMMENDED_RSA_MODULUS_BITS} recommended)`,
    );
  }
  if (modulusBits > MAX_RSA_MODULUS_BITS) {
    throw new CsrError(
      'ERR_CSR_KEY_UNSUPPORTED',
      `RSA key of ${modulusBits} bits is not supported: at most ${MAX_RSA_MODULUS_BITS} bits (${RECOMMENDED_RSA_MODULUS_BITS} recommended), since every request signature is verified with it`,
    );
  }
  if (
    exponent < 65537n ||
    exponent >= 1n << BigInt(MAX_RSA_PUBLIC_EXPONENT_BITS) ||
    exponent % 2n === 0n
  ) {
    const shown = exponent < 1n << 64n ? `${exponent}` : `of ${exponent.toString(2).length} bits`;
    throw new CsrError(
      'ERR_CSR_KEY_UNSUPPORTED',
      `RSA public exponent ${shown} is not supported: it must be odd, at least 65537 and below 2^${MAX_RSA_PUBLIC_EXPONENT_BITS}; use 65537`,
    );
  }
  return { key, modulusBits };
}

function verifySelfSignature(request: CertificationRequest, key: KeyObject): void {
  const tbs = Buffer.from(request.certificationRequestInfoRaw ?? new ArrayBuffer(0));
  const signature = Buffer.from(request.signature);
  const algorithm = request.signatureAlgorithm;
  const pkcs1Hash = PKCS1_SIGNATURE_HASHES[algorithm.algorithm];
  let valid: boolean;
  if (pkcs1Hash !== undefined) {
    valid = verify(pkcs1Hash, tbs, key, signature);
  } else if (algorithm.algorithm === OID_RSASSA_PSS) {
    const { hash, saltLength } = pssParameters(algorithm);
    valid = verify(
      hash,
      tbs,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
      signature,
    );
  } else {
    throw new CsrError(
      'ERR_CSR_BAD_SIGNATURE',
      `CSR signature algorithm ${algorithm.algorithm} is not accepted; sign with SHA-256 (or SHA-384/512) and RSA`,
    );
  }
  if (!valid) {
    throw new CsrError(
      'ERR_CSR_BAD_SIGNATURE',
      'CSR self-signature does not verify with its public key',
    );
  }
}

/** RFC 4055 §3.1 parameters; only hash = MGF1 hash ∈ SHA-2 and trailer 1. */
function pssParameters(algorithm: AlgorithmIdentifier): { hash: string; saltLength: number } {
  const unsupported = new CsrError(
    'ERR_CSR_BAD_SIGNATURE',
    'CSR RSASSA-PSS parameters are not accepted; use SHA-256 (or SHA-384/512) with MGF1 of the same hash',
  );
  if (algorithm.parameters === undefined || algorithm.parameters === null) throw unsupported;
  let params: RsaSaPssParams;
  let mgfHash: AlgorithmIdentifier;
  try {
    params = AsnConvert.parse(algorithm.parameters, RsaSaPssParams);
    if (params.maskGenAlgorithm.algorithm !== OID_MGF1) throw unsupported;
    mgfHash = AsnConvert.parse(
      params.maskGenAlgorithm.parameters ?? new ArrayBuffer(0),
      AlgorithmIdentifier,
    );
  } catch {
    throw unsupported;
  }
  const hash = DIGESTS[params.hashAlgorithm.algorithm];
  if (hash === undefined || mgfHash.algorithm !== params.hashAlgorithm.algorithm) throw unsupported;
  if (params.trailerField !== 1) throw unsupported;
  return { hash, saltLength: params.saltLength };
}
