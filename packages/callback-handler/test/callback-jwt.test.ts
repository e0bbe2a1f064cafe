// The protocol's JWTs with real RSA keys: round trips, and every forgery we know of refused
// with one and the same error (no oracle).
import {
  createHash,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  CallbackHandlerError,
  checkTimeClaims,
  loadRsaPrivateKey,
  loadRsaPublicKey,
  signCallbackRequest,
  signCallbackResponse,
  signRs256Jwt,
  verifyCallbackResponse,
  verifyRs256Jwt,
} from '../src/index.js';
import { nowSeconds, rsaPair } from './helpers.js';

const cosigner = rsaPair();
const handler = rsaPair();
const stranger = rsaPair();

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectInvalid(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CallbackHandlerError);
  expect((caught as CallbackHandlerError).code).toBe('ERR_CALLBACK_JWT_INVALID');
  // One message on every failure path.
  expect((caught as CallbackHandlerError).message).toBe('invalid token');
}

describe('RS256 compact JWS', () => {
  it('round-trips claims signed with a real RSA key', () => {
    const token = signRs256Jwt({ a: 1, b: 'x' }, cosigner.privateKey);
    expect(token.split('.')).toHaveLength(3);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as unknown;
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(verifyRs256Jwt(token, cosigner.publicKey)).toEqual({ a: 1, b: 'x' });
  });

  it('refuses a forged signature, a changed payload and the wrong key', () => {
    const token = signRs256Jwt({ action: 'APPROVE' }, cosigner.privateKey);
    const [h, p, s] = token.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10] = sig[10]! ^ 1;
    expectInvalid(() =>
      verifyRs256Jwt(`${h}.${p}.${sig.toString('base64url')}`, cosigner.publicKey),
    );
    expectInvalid(() =>
      verifyRs256Jwt(`${h}.${b64({ action: 'REJECT' })}.${s}`, cosigner.publicKey),
    );
    expectInvalid(() => verifyRs256Jwt(token, stranger.publicKey));
    expectInvalid(() =>
      verifyRs256Jwt(signRs256Jwt({ a: 1 }, stranger.privateKey), cosigner.publicKey),
    );
  });

  it('refuses alg none, HS256 with the public key as secret, and other algorithms', () => {
    const payload = b64({ action: 'APPROVE', requestId: 'r' });
    expectInvalid(() => verifyRs256Jwt(`${b64({ alg: 'none' })}.${payload}.`, cosigner.publicKey));
    expectInvalid(() =>
      verifyRs256Jwt(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.AAAA`, cosigner.publicKey),
    );
    // The classic key-confusion attack: HMAC keyed with the PEM of the RSA public key.
    const hsInput = `${b64({ alg: 'HS256', typ: 'JWT' })}.${payload}`;
    const hsSig = createHmac('sha256', cosigner.publicPem).update(hsInput).digest('base64url');
    expectInvalid(() => verifyRs256Jwt(`${hsInput}.${hsSig}`, cosigner.publicKey));
    // A real RS256 signature under a header that names another algorithm.
    for (const alg of ['RS512', 'PS256', 'ES256', 'rs256']) {
      const input = `${b64({ alg, typ: 'JWT' })}.${payload}`;
      const rs = signWith(cosigner.privateKey, input);
      expectInvalid(() => verifyRs256Jwt(`${input}.${rs}`, cosigner.publicKey));
    }
  });

  it('refuses header tricks (kid, jku, jwk, x5u, crit, typ) even with a valid signature', () => {
    for (const extra of [
      { kid: '../../dev/null' },
      { jku: 'https://attacker.example/keys' },
      { jwk: { kty: 'RSA' } },
      { x5u: 'https://attacker.example/cert' },
      { crit: ['exp'] },
      { typ: 'JWS' },
    ]) {
      const input = `${b64({ alg: 'RS256', ...extra })}.${b64({ a: 1 })}`;
      const sig = signWith(cosigner.privateKey, input);
      expectInvalid(() => verifyRs256Jwt(`${input}.${sig}`, cosigner.publicKey));
    }
  });

  it('refuses malformed tokens: parts, padding, non-canonical base64url, non-object claims', () => {
    const token = signRs256Jwt({ a: 1 }, cosigner.privateKey);
    expectInvalid(() => verifyRs256Jwt('', cosigner.publicKey));
    expectInvalid(() => verifyRs256Jwt(`${token}.x`, cosigner.publicKey));
    expectInvalid(() => verifyRs256Jwt(`${token}=`, cosigner.publicKey));
    expectInvalid(() => verifyRs256Jwt(token.replace('.', '.\n'), cosigner.publicKey));
    const input = `${b64({ alg: 'RS256' })}.${Buffer.from('[1,2]').toString('base64url')}`;
    expectInvalid(() =>
      verifyRs256Jwt(`${input}.${signWith(cosigner.privateKey, input)}`, cosigner.publicKey),
    );
  });
});

describe('callback JWT time claims', () => {
  const base = { nowSeconds: 1_800_000_000, clockSkewSeconds: 30, requireTimestamps: true };

  it('accepts a fresh token and strips iat/exp', () => {
    expect(
      checkTimeClaims({ a: 1, iat: base.nowSeconds, exp: base.nowSeconds + 60 }, base),
    ).toEqual({
      a: 1,
    });
  });

  it('refuses expired, future, over-long, inverted and missing timestamps', () => {
    const n = base.nowSeconds;
    const code = (claims: Record<string, unknown>) => {
      try {
        checkTimeClaims(claims, base);
        return 'accepted';
      } catch (error) {
        return (error as CallbackHandlerError).code;
      }
    };
    expect(code({ iat: n - 100, exp: n - 40 })).toBe('ERR_CALLBACK_JWT_EXPIRED');
    expect(code({ iat: n - 80, exp: n - 20 })).toBe('accepted'); // within the skew
    expect(code({ iat: n + 31, exp: n + 60 })).toBe('ERR_CALLBACK_JWT_TIME');
    expect(code({ iat: n, exp: n + 61 })).toBe('ERR_CALLBACK_JWT_TIME');
    expect(code({ iat: n, exp: n - 1 })).toBe('ERR_CALLBACK_JWT_TIME');
    expect(code({ iat: n })).toBe('ERR_CALLBACK_JWT_TIME');
    expect(code({})).toBe('ERR_CALLBACK_JWT_TIME');
    expect(code({ iat: String(n), exp: n + 10 })).toBe('ERR_CALLBACK_JWT_TIME');
    expect(code({ iat: n + 0.5, exp: n + 10 })).toBe('ERR_CALLBACK_JWT_TIME');
  });

  it('accepts a token without timestamps only when told to (a Fireblocks co-signer)', () => {
    expect(checkTimeClaims({ a: 1 }, { ...base, requireTimestamps: false })).toEqual({ a: 1 });
    // Present timestamps are still checked.
    expect(() =>
      checkTimeClaims({ iat: 1, exp: 2 }, { ...base, requireTimestamps: false }),
    ).toThrow(/expired/);
  });
});

describe('co-signer side: signed request, verified response', () => {
  const opts = { nowSeconds: nowSeconds(), clockSkewSeconds: 30, requireTimestamps: true };

  it('verifies a response signed by the handler key that echoes the requestId', () => {
    const token = signCallbackResponse(
      { action: 'REJECT', requestId: 'req-1', rejectionReason: 'over cap' },
      handler.privateKey,
      opts.nowSeconds,
    );
    expect(
      verifyCallbackResponse(token, handler.publicKey, { ...opts, expectedRequestId: 'req-1' }),
    ).toEqual({ action: 'REJECT', requestId: 'req-1', rejectionReason: 'over cap' });
  });

  it('refuses a replayed approval of another request, another key, and a non-response', () => {
    const approval = signCallbackResponse(
      { action: 'APPROVE', requestId: 'req-old' },
      handler.privateKey,
      opts.nowSeconds,
    );
    expect(() =>
      verifyCallbackResponse(approval, handler.publicKey, {
        ...opts,
        expectedRequestId: 'req-new',
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK_RESPONSE_MISMATCH' }));
    expect(() =>
      verifyCallbackResponse(approval, stranger.publicKey, {
        ...opts,
        expectedRequestId: 'req-old',
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK_JWT_INVALID' }));
    const odd = signRs256Jwt(
      { action: 'APPROVED', requestId: 'req-old', iat: opts.nowSeconds, exp: opts.nowSeconds },
      handler.privateKey,
    );
    expect(() =>
      verifyCallbackResponse(odd, handler.publicKey, { ...opts, expectedRequestId: 'req-old' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK_INVALID_PAYLOAD' }));
    // A request token is not a response, even with the right key.
    const req = signCallbackRequest({ requestId: 'req-old' }, handler.privateKey, opts.nowSeconds);
    expect(() =>
      verifyCallbackResponse(req, handler.publicKey, { ...opts, expectedRequestId: 'req-old' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK_INVALID_PAYLOAD' }));
  });
});

describe('duplicate member names (review F9)', () => {
  /** A token over exactly these header and claims texts, properly signed with `key`. */
  function signedText(header: string, claims: string, key: KeyObject): string {
    const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(claims).toString('base64url')}`;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  }
  const now = nowSeconds();
  const opts = {
    nowSeconds: now,
    clockSkewSeconds: 30,
    requireTimestamps: true,
    expectedRequestId: 'r1',
  };
  const tail = `"requestId":"r1","iat":${now},"exp":${now + 60}`;

  it('refuses genuinely signed tokens that repeat a name in the claims or the header', () => {
    const good = signedText('{"alg":"RS256"}', `{"action":"REJECT",${tail}}`, handler.privateKey);
    expect(verifyCallbackResponse(good, handler.publicKey, opts).action).toBe('REJECT');
    for (const [header, claims] of [
      ['{"alg":"RS256"}', `{"action":"REJECT",${tail},"action":"APPROVE"}`],
      ['{"alg":"RS256"}', `{"action":"REJECT","\u0061ction":"APPROVE",${tail}}`],
      ['{"alg":"RS256"}', `{"action":"APPROVE",${tail},"x":{"a":1,"a":2}}`],
      ['{"alg":"none","alg":"RS256"}', `{"action":"APPROVE",${tail}}`],
      ['{"alg":"RS256","typ":"JWT","typ":"JWT"}', `{"action":"APPROVE",${tail}}`],
    ]) {
      expectInvalid(() =>
        verifyCallbackResponse(
          signedText(header!, claims!, handler.privateKey),
          handler.publicKey,
          opts,
        ),
      );
    }
  });

  it('still accepts the same name in different objects, in values and in arrays', () => {
    const claims = `{"action":"APPROVE",${tail},"a":{"action":"x","b":[{"a":1},{"a":2}]},"c":"action"}`;
    expect(() =>
      verifyRs256Jwt(signedText('{"alg":"RS256"}', claims, handler.privateKey), handler.publicKey),
    ).not.toThrow();
  });
});

describe('time check options (review F5)', () => {
  it('a year-old genuine APPROVE is stale, and NaN, Infinity or out-of-range skews and clocks are refused, never lenient', () => {
    const yearAgo = nowSeconds() - 365 * 24 * 3600;
    const approval = signCallbackResponse(
      { action: 'APPROVE', requestId: 'req-1' },
      handler.privateKey,
      yearAgo,
    );
    const verifyWith =
      (clockSkewSeconds: number, now = nowSeconds()) =>
      () =>
        verifyCallbackResponse(approval, handler.publicKey, {
          nowSeconds: now,
          clockSkewSeconds,
          requireTimestamps: true,
          expectedRequestId: 'req-1',
        });
    expect(verifyWith(30)).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK_JWT_EXPIRED' }));
    for (const skew of [NaN, Infinity, -1, 301, 1.5]) {
      expect(verifyWith(skew), String(skew)).toThrow(
        expect.objectContaining({ code: 'ERR_CALLBACK_INVALID_OPTIONS' }),
      );
    }
    for (const now of [NaN, Infinity, -1, 1.5]) {
      expect(verifyWith(30, now), String(now)).toThrow(
        expect.objectContaining({ code: 'ERR_CALLBACK_INVALID_OPTIONS' }),
      );
    }
    expect(() =>
      checkTimeClaims(
        {},
        { nowSeconds: nowSeconds(), clockSkewSeconds: NaN, requireTimestamps: false },
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK_INVALID_OPTIONS' }));
  });
});

describe('key loading', () => {
  it('accepts RSA ≥ 2048 PEM keys and refuses small, non-RSA, PSS and swapped keys', () => {
    expect(loadRsaPublicKey(cosigner.publicPem, 'k').asymmetricKeyType).toBe('rsa');
    expect(loadRsaPrivateKey(cosigner.privatePem, 'k').type).toBe('private');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'accepted';
      } catch (error) {
        return (error as CallbackHandlerError).code;
      }
    };
    expect(code(() => loadRsaPublicKey(small.publicKey, 'k'))).toBe('ERR_CALLBACK_INVALID_KEY');
    expect(code(() => loadRsaPublicKey(ec.publicKey, 'k'))).toBe('ERR_CALLBACK_INVALID_KEY');
    expect(code(() => loadRsaPublicKey(pss.publicKey, 'k'))).toBe('ERR_CALLBACK_INVALID_KEY');
    expect(code(() => loadRsaPrivateKey(cosigner.publicPem, 'k'))).toBe('ERR_CALLBACK_INVALID_KEY');
    expect(code(() => loadRsaPublicKey('not a key', 'k'))).toBe('ERR_CALLBACK_INVALID_KEY');
  });

  it('refuses degenerate public exponents (a forgery with e = 1 needs no private key) and huge moduli (review F6)', () => {
    const { n } = handler.publicKey.export({ format: 'jwk' });
    const hexToB64url = (hex: string) =>
      Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
    const withExponent = (e: bigint) =>
      createPublicKey({
        key: { kty: 'RSA', n: n!, e: hexToB64url(e.toString(16)) },
        format: 'jwk',
      })
        .export({ type: 'spki', format: 'pem' })
        .toString();
    const eOne = withExponent(1n);
    for (const e of [1n, 3n, 65539n]) {
      expect(() => loadRsaPublicKey(withExponent(e), 'handler public key'), String(e)).toThrow(
        /handler public key: RSA public exponent must be 65537/,
      );
    }
    expect(loadRsaPublicKey(withExponent(65537n), 'handler public key').type).toBe('public');
    // The forgery the exponent check stops: with e = 1 the PKCS#1 v1.5 encoding is the signature.
    const signingInput = `${b64({ alg: 'RS256' })}.${b64({ action: 'APPROVE', requestId: 'r1', iat: nowSeconds(), exp: nowSeconds() })}`;
    const digestInfo = Buffer.concat([
      Buffer.from('3031300d060960864801650304020105000420', 'hex'),
      createHash('sha256').update(signingInput).digest(),
    ]);
    const k = Buffer.from(n!, 'base64url').length;
    const encoded = Buffer.concat([
      Buffer.from([0, 1]),
      Buffer.alloc(k - digestInfo.length - 3, 0xff),
      Buffer.from([0]),
      digestInfo,
    ]);
    const forged = `${signingInput}.${encoded.toString('base64url')}`;
    const raw = createPublicKey(eOne);
    expect(() => verifyRs256Jwt(forged, raw)).not.toThrow(); // what the unchecked key would allow
    expect(() => verifyRs256Jwt(forged, loadRsaPublicKey(eOne, 'handler public key'))).toThrow(
      /exponent/,
    );
    const hugeN = randomBytes(16392 / 8);
    hugeN[0]! |= 0x80;
    hugeN[hugeN.length - 1]! |= 1;
    const huge = createPublicKey({
      key: { kty: 'RSA', n: hugeN.toString('base64url'), e: 'AQAB' },
      format: 'jwk',
    });
    expect(() => loadRsaPublicKey(huge, 'handler public key')).toThrow(/16392 bits, at most 16384/);
  });

  it('never quotes private key material in an error', () => {
    const broken = cosigner.privatePem.replace(/[A-Za-z]{8}\n/, 'xxxxxxxx\n');
    try {
      loadRsaPrivateKey(broken, 'handler private key');
      expect.unreachable();
    } catch (error) {
      const text = `${String(error)} ${JSON.stringify(error)} ${String((error as Error).cause)}`;
      const body = cosigner.privatePem.split('\n')[3]!;
      expect(text).not.toContain(body);
    }
  });
});

/** A genuine RS256 signature over an arbitrary signing input. */
function signWith(privateKey: KeyObject, input: string): string {
  return sign('sha256', Buffer.from(input), privateKey).toString('base64url');
}
