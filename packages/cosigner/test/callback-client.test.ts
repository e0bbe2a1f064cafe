// The co-signer asking a Callback Handler, both modes, against real loopback servers: genuine
// handlers built with @countersign/callback-handler (which verify the co-signer's signed
// requests), and raw servers that hang, fail, answer HTML, forge, replay, or present another
// TLS certificate. Every failure must come back as its own FAILED sub-status, never an APPROVE.
import { createPublicKey } from 'node:crypto';
import type { RequestListener } from 'node:http';

import {
  approve,
  createCallbackHandler,
  createNodeRequestListener,
  ignore,
  reject,
  retry,
  signCallbackResponse,
  type CallbackDecision,
} from '@countersign/callback-handler';
import type { ConfigChangeSignRequest, TxSignRequest } from '@countersign/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CallbackClient, type CallbackClientOptions } from '../src/callback/callback-client.js';
import { askStoredCallbackHandler, CallbackHandlerSlots } from '../src/callback/callback-gate.js';
import {
  parseCallbackHandler,
  type CallbackHandlerConfig,
  type StoredCallbackHandler,
} from '../src/callback/callback-handler-config.js';
import type { CallbackFailureSubStatus } from '../src/callback/callback-outcome.js';
import {
  caIssuedIdentity,
  configChangePayload,
  fixedAnswer,
  hangingAnswer,
  rsaKeyPair,
  serve,
  stalledTlsServer,
  tlsIdentity,
  txPayload,
  type Served,
  type TlsIdentity,
} from './callback-fixtures.js';
import { cleanupTempDirs, tempDir } from './store-helpers.js';

const cosigner = rsaKeyPair(3072);
const handlerKeys = rsaKeyPair();
const otherKeys = rsaKeyPair();
const nowSeconds = () => Math.floor(Date.now() / 1000);

let tls: TlsIdentity;
let otherTls: TlsIdentity;
const servers: Served[] = [];

beforeAll(async () => {
  const dir = await tempDir('cosigner-callback-');
  tls = tlsIdentity(dir, 'handler');
  otherTls = tlsIdentity(dir, 'impostor');
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await cleanupTempDirs();
});

async function served(
  listener: RequestListener,
  identity?: TlsIdentity,
  host?: string,
): Promise<Served> {
  const server = await serve(listener, identity, host);
  servers.push(server);
  return server;
}

type Decide = (payload: TxSignRequest | ConfigChangeSignRequest) => CallbackDecision;

/** A genuine JWT-mode handler that signs its answers with `signingKey`. */
function jwtHandler(decide: Decide, signingKey = handlerKeys.privateKey): RequestListener {
  return createNodeRequestListener(
    createCallbackHandler({
      mode: { type: 'jwt', cosignerPublicKey: cosigner.publicKey, handlerPrivateKey: signingKey },
      onTxSignRequest: decide,
      onConfigChangeSignRequest: decide,
    }),
  );
}

function pinnedHandler(decide: Decide): RequestListener {
  return createNodeRequestListener(
    createCallbackHandler({
      mode: { type: 'pinned-tls' },
      onTxSignRequest: decide,
      onConfigChangeSignRequest: decide,
    }),
  );
}

function client(stored: StoredCallbackHandler, options: Partial<CallbackClientOptions> = {}) {
  return new CallbackClient({
    handler: parseCallbackHandler(stored),
    cosignerKey: cosigner.privateKey,
    ...options,
  });
}

const jwtClient = (server: Served, options: Partial<CallbackClientOptions> = {}) =>
  client({ mode: 'jwt', url: server.url, publicKey: handlerKeys.publicPem }, options);
const pinnedClient = (
  server: Served,
  cert = tls.cert,
  options: Partial<CallbackClientOptions> = {},
) => client({ mode: 'pinned-tls', url: server.url, cert }, options);

function expectFailure(outcome: { action: string }, subStatus: CallbackFailureSubStatus): void {
  expect(outcome).toMatchObject({ action: 'FAILED', subStatus });
}

describe('JWT mode', () => {
  it('gets APPROVE for a tx_sign_request and a config change from a genuine handler that verified the signed request', async () => {
    const seen: string[] = [];
    const server = await served(
      jwtHandler((payload) => {
        seen.push(payload.requestId);
        return approve();
      }),
    );
    const tx = txPayload();
    const attempt = await jwtClient(server).ask('tx_sign_request', tx);
    expect(attempt).toMatchObject({
      requestId: tx.requestId,
      kind: 'tx_sign_request',
      mode: 'jwt',
      attempt: 1,
      httpStatus: 200,
      outcome: { action: 'APPROVE' },
    });
    const change = configChangePayload();
    const approval = await jwtClient(server).ask('config_change_sign_request', change);
    expect(approval.outcome).toEqual({ action: 'APPROVE' });
    expect(seen).toEqual([tx.requestId, change.requestId]);
  });

  it('gets REJECT with the reason', async () => {
    const server = await served(jwtHandler(() => reject('payee not on the allowlist')));
    const attempt = await jwtClient(server).ask('tx_sign_request', txPayload());
    expect(attempt.outcome).toEqual({
      action: 'REJECT',
      rejectionReason: 'payee not on the allowlist',
    });
  });

  it('posts below the configured URL`s path, with or without a trailing slash, and passes IGNORE through', async () => {
    const paths: string[] = [];
    const handler = jwtHandler(() => ignore());
    const server = await served((request, response) => {
      paths.push(request.url ?? '');
      request.url = (request.url ?? '').replace(/^\/hooks\/cb/, '');
      handler(request, response);
    });
    for (const url of [`${server.url}/hooks/cb`, `${server.url}/hooks/cb/`]) {
      const attempt = await client({ mode: 'jwt', url, publicKey: handlerKeys.publicPem }).ask(
        'config_change_sign_request',
        configChangePayload(),
      );
      expect(attempt.outcome).toEqual({ action: 'IGNORE' });
      expect(attempt.url).toBe(`${server.url}/hooks/cb/v2/config_change_sign_request`);
    }
    expect(paths).toEqual([
      '/hooks/cb/v2/config_change_sign_request',
      '/hooks/cb/v2/config_change_sign_request',
    ]);
  });

  it('fails with CALLBACK_BAD_SIGNATURE when the answer is signed by another key', async () => {
    const server = await served(jwtHandler(() => approve(), otherKeys.privateKey));
    const attempt = await jwtClient(server).ask('tx_sign_request', txPayload());
    expect(attempt.httpStatus).toBe(200);
    expectFailure(attempt.outcome, 'CALLBACK_BAD_SIGNATURE');
  });

  it('fails with CALLBACK_REQUEST_ID_MISMATCH when an old approval is replayed', async () => {
    const earlier = txPayload();
    const oldApproval = signCallbackResponse(
      { action: 'APPROVE', requestId: earlier.requestId },
      handlerKeys.privateKey,
      nowSeconds(),
    );
    const server = await served(fixedAnswer(200, 'application/jwt', oldApproval));
    const attempt = await jwtClient(server).ask('tx_sign_request', txPayload());
    expectFailure(attempt.outcome, 'CALLBACK_REQUEST_ID_MISMATCH');
  });

  it('fails with CALLBACK_STALE_RESPONSE for a genuine answer issued an hour ago', async () => {
    const tx = txPayload();
    const stale = signCallbackResponse(
      { action: 'APPROVE', requestId: tx.requestId },
      handlerKeys.privateKey,
      nowSeconds() - 3600,
    );
    const server = await served(fixedAnswer(200, 'application/jwt', stale));
    expectFailure(
      (await jwtClient(server).ask('tx_sign_request', tx)).outcome,
      'CALLBACK_STALE_RESPONSE',
    );
  });

  it('fails with CALLBACK_MALFORMED_RESPONSE for an HTML page, JSON, and a token with alg none', async () => {
    const tx = txPayload();
    const unsigned = [
      Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url'),
      Buffer.from(JSON.stringify({ action: 'APPROVE', requestId: tx.requestId })).toString(
        'base64url',
      ),
      '',
    ].join('.');
    const bodies: [string, string, CallbackFailureSubStatus][] = [
      ['text/html', '<html><body>502 Bad Gateway</body></html>', 'CALLBACK_MALFORMED_RESPONSE'],
      [
        'application/json',
        JSON.stringify({ action: 'APPROVE', requestId: tx.requestId }),
        'CALLBACK_MALFORMED_RESPONSE',
      ],
      ['application/jwt', unsigned, 'CALLBACK_MALFORMED_RESPONSE'],
      ['application/jwt', `${unsigned}AAAA`, 'CALLBACK_BAD_SIGNATURE'],
    ];
    for (const [contentType, body, subStatus] of bodies) {
      const server = await served(fixedAnswer(200, contentType, body));
      expectFailure((await jwtClient(server).ask('tx_sign_request', tx)).outcome, subStatus);
    }
  });

  it('fails with CALLBACK_HTTP_ERROR on a 5xx (the handler`s decision function threw) and on a 404', async () => {
    const server = await served(
      jwtHandler(() => {
        throw new Error('database down');
      }),
    );
    const attempt = await jwtClient(server).ask('tx_sign_request', txPayload());
    expect(attempt.httpStatus).toBe(500);
    expect(attempt.outcome).toEqual({
      action: 'FAILED',
      subStatus: 'CALLBACK_HTTP_ERROR',
      detail: 'HTTP 500',
    });
    const wrongPath = await served(fixedAnswer(404, 'text/plain', 'not found'));
    expectFailure(
      (await jwtClient(wrongPath).ask('tx_sign_request', txPayload())).outcome,
      'CALLBACK_HTTP_ERROR',
    );
  });

  it('fails with CALLBACK_TIMEOUT when the handler hangs (short configured timeout), and hangs up', async () => {
    let hungUp!: () => void;
    const closed = new Promise<void>((resolve) => (hungUp = resolve));
    const server = await served((request) => {
      request.resume(); // never answers
      request.socket.on('close', hungUp);
    });
    const attempt = await jwtClient(server, { timeoutMs: 300 }).ask('tx_sign_request', txPayload());
    expectFailure(attempt.outcome, 'CALLBACK_TIMEOUT');
    expect(server.requests()).toBe(1);
    await closed; // closed by the co-signer: this server never closes it
  });

  it('fails with CALLBACK_RESPONSE_TOO_LARGE without reading past the limit, declared or streamed (F10)', async () => {
    /** Answers 200 with 16 KiB chunks for as long as the client reads (declared: 1 GiB). */
    const endless =
      (declared: boolean, closed: () => void): RequestListener =>
      (request, response) => {
        request.resume();
        request.on('end', () => {
          const chunk = 'a'.repeat(16 * 1024);
          response.writeHead(200, {
            'content-type': 'application/jwt',
            ...(declared ? { 'content-length': String(2 ** 30) } : {}),
          });
          // The body never ends: only the co-signer hanging up closes this response.
          response.on('close', closed);
          const more = () => {
            while (!response.destroyed) {
              if (!response.write(chunk)) return void response.once('drain', more);
            }
          };
          more();
        });
      };
    for (const declared of [true, false]) {
      let hungUp!: () => void;
      const cut = new Promise<void>((resolve) => (hungUp = resolve));
      const server = await served(endless(declared, hungUp));
      const attempt = await jwtClient(server).ask('tx_sign_request', txPayload());
      expectFailure(attempt.outcome, 'CALLBACK_RESPONSE_TOO_LARGE');
      expect(attempt.httpStatus).toBe(200);
      expect(server.requests()).toBe(1);
      await cut; // closed by the co-signer, which stopped reading at the limit
    }
  });

  it('does not follow a redirect: a 307 to a genuine handler is CALLBACK_HTTP_ERROR and the target sees nothing (F10)', async () => {
    const target = await served(jwtHandler(() => approve()));
    const redirect = await served((request, response) => {
      request.resume();
      response.writeHead(307, { location: `${target.url}/v2/tx_sign_request` });
      response.end();
    });
    const attempt = await jwtClient(redirect).ask('tx_sign_request', txPayload());
    expect(attempt.outcome).toEqual({
      action: 'FAILED',
      subStatus: 'CALLBACK_HTTP_ERROR',
      detail: 'HTTP 307',
    });
    expect(target.requests()).toBe(0);
    const pinnedRedirect = await served((request, response) => {
      request.resume();
      response.writeHead(307, { location: `${target.url}/v2/tx_sign_request` });
      response.end();
    }, tls);
    expectFailure(
      (await pinnedClient(pinnedRedirect).ask('tx_sign_request', txPayload())).outcome,
      'CALLBACK_HTTP_ERROR',
    );
    expect(target.requests()).toBe(0);
  });

  it('fails with CALLBACK_UNREACHABLE when nothing listens, and CALLBACK_TLS_ERROR for an untrusted https certificate', async () => {
    const gone = await serve(hangingAnswer);
    await gone.close();
    expectFailure(
      (await jwtClient(gone).ask('tx_sign_request', txPayload())).outcome,
      'CALLBACK_UNREACHABLE',
    );
    const selfSigned = await served(
      jwtHandler(() => approve()),
      tls,
    );
    const attempt = await jwtClient(selfSigned).ask('tx_sign_request', txPayload());
    expectFailure(attempt.outcome, 'CALLBACK_TLS_ERROR');
    expect(selfSigned.requests()).toBe(0);
  });

  it('over https: APPROVE from a handler whose certificate a trusted CA issued for 127.0.0.1; CALLBACK_TLS_ERROR for one issued to another name (F10)', async () => {
    const dir = await tempDir('cosigner-callback-ca-');
    const right = caIssuedIdentity(dir, 'handler-ip', 'IP:127.0.0.1');
    const server = await served(
      jwtHandler(() => approve()),
      right,
    );
    const attempt = await jwtClient(server, { trustedCertificates: [right.caCert] }).ask(
      'tx_sign_request',
      txPayload(),
    );
    expect(attempt).toMatchObject({ httpStatus: 200, outcome: { action: 'APPROVE' } });
    expect(server.requests()).toBe(1);
    const wrongName = caIssuedIdentity(dir, 'handler-other', 'DNS:elsewhere.example');
    const other = await served(
      jwtHandler(() => approve()),
      wrongName,
    );
    const refused = await jwtClient(other, { trustedCertificates: [wrongName.caCert] }).ask(
      'tx_sign_request',
      txPayload(),
    );
    expect(refused.outcome).toMatchObject({
      action: 'FAILED',
      subStatus: 'CALLBACK_TLS_ERROR',
      detail: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(other.requests()).toBe(0);
  });

  it('fails with CALLBACK_ABORTED when the caller has given up', async () => {
    const server = await served(hangingAnswer);
    const controller = new AbortController();
    const pending = jwtClient(server).ask('tx_sign_request', txPayload(), {
      signal: controller.signal,
    });
    controller.abort();
    expectFailure((await pending).outcome, 'CALLBACK_ABORTED');
  });

  it('refuses a clock skew that is not an integer 0..300, so a year-old APPROVE stays stale (review F5)', async () => {
    const tx = txPayload();
    const yearOld = signCallbackResponse(
      { action: 'APPROVE', requestId: tx.requestId },
      handlerKeys.privateKey,
      nowSeconds() - 365 * 24 * 3600,
    );
    const server = await served(fixedAnswer(200, 'application/jwt', yearOld));
    for (const clockSkewSeconds of [NaN, Infinity, -1, 301, 2.5]) {
      expect(() => jwtClient(server, { clockSkewSeconds }), String(clockSkewSeconds)).toThrow(
        expect.objectContaining({ code: 'ERR_COSIGNER_INVALID_ARGUMENT' }),
      );
    }
    const attempt = await jwtClient(server, { clockSkewSeconds: 300 }).ask('tx_sign_request', tx);
    expectFailure(attempt.outcome, 'CALLBACK_STALE_RESPONSE');
    expect(server.requests()).toBe(1);
  });

  it('refuses to send a payload that breaks the protocol schema', async () => {
    const server = await served(jwtHandler(() => approve()));
    const bad = { ...txPayload(), unexpected: true } as TxSignRequest;
    await expect(jwtClient(server).ask('tx_sign_request', bad)).rejects.toThrow(/protocol schema/);
    expect(server.requests()).toBe(0);
  });
});

describe('handler settings checks', () => {
  it('refuse a handler key with public exponent 1, with which anyone could forge an APPROVE (review F6)', () => {
    const { n } = handlerKeys.publicKey.export({ format: 'jwk' });
    const eOne = createPublicKey({ key: { kty: 'RSA', n: n!, e: 'AQ' }, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    expect(() =>
      parseCallbackHandler({ mode: 'jwt', url: 'https://cb.example/hook', publicKey: eOne }),
    ).toThrow(/RSA public exponent must be 65537/);
  });
});

describe('the handler URL`s path never names another host (review F1)', () => {
  it('refuses URLs whose path has an empty segment or a backslash, in both modes', () => {
    for (const url of [
      'http://127.0.0.1//evil.example/',
      'http://127.0.0.1/\\evil.example/',
      'http://127.0.0.1/.//evil.example/',
      'https://cb.example//attacker.example/hook',
      'https://cb.example//',
      'https://cb.example/hook//v1',
      'http://127.0.0.1//[x/',
    ]) {
      expect(
        () => parseCallbackHandler({ mode: 'jwt', url, publicKey: handlerKeys.publicPem }),
        url,
      ).toThrow(/backslash|empty path segment/);
      if (url.startsWith('https:')) {
        expect(
          () => parseCallbackHandler({ mode: 'pinned-tls', url, cert: tls.cert }),
          url,
        ).toThrow(/empty path segment/);
      }
    }
  });

  it('a configuration that got past the checks is not sent, neither to the named host nor to the configured one', async () => {
    const configured = await served(jwtHandler(() => approve()));
    const elsewhere = await served(
      jwtHandler(() => approve()),
      undefined,
      '127.0.0.2',
    );
    const checked = parseCallbackHandler({
      mode: 'jwt',
      url: configured.url,
      publicKey: handlerKeys.publicPem,
    });
    for (const path of [`//${new URL(elsewhere.url).host}/`, '//[x/']) {
      const handler: CallbackHandlerConfig = { ...checked, url: new URL(configured.url + path) };
      const attempt = await new CallbackClient({ handler, cosignerKey: cosigner.privateKey }).ask(
        'tx_sign_request',
        txPayload(),
      );
      expectFailure(attempt.outcome, 'CALLBACK_CONFIG_INVALID');
      expect(attempt.url.startsWith(configured.url)).toBe(true);
    }
    expect(elsewhere.requests()).toBe(0);
    expect(configured.requests()).toBe(0);
  });
});

describe('pinned-TLS mode', () => {
  it('gets APPROVE and REJECT as JSON over TLS pinned to the configured certificate', async () => {
    let answer: CallbackDecision = approve();
    const server = await served(
      pinnedHandler(() => answer),
      tls,
    );
    expect((await pinnedClient(server).ask('tx_sign_request', txPayload())).outcome).toEqual({
      action: 'APPROVE',
    });
    answer = reject('outside business hours');
    const attempt = await pinnedClient(server).ask(
      'config_change_sign_request',
      configChangePayload(),
    );
    expect(attempt).toMatchObject({
      mode: 'pinned-tls',
      outcome: { action: 'REJECT', rejectionReason: 'outside business hours' },
    });
  });

  it('gets APPROVE from handlers with EC P-256 and Ed25519 certificates, and refuses another key of the same type (review F2)', async () => {
    const dir = await tempDir('cosigner-callback-keytypes-');
    for (const keyType of ['ec-p256', 'ed25519'] as const) {
      const identity = tlsIdentity(dir, `handler-${keyType}`, keyType);
      const impostorIdentity = tlsIdentity(dir, `impostor-${keyType}`, keyType);
      const server = await served(
        pinnedHandler(() => approve()),
        identity,
      );
      const attempt = await pinnedClient(server, identity.cert).ask('tx_sign_request', txPayload());
      expect(attempt.outcome, keyType).toEqual({ action: 'APPROVE' });
      expect(server.requests()).toBe(1);
      const impostor = await served(
        pinnedHandler(() => approve()),
        impostorIdentity,
      );
      const refused = await pinnedClient(impostor, identity.cert).ask(
        'tx_sign_request',
        txPayload(),
      );
      expectFailure(refused.outcome, 'CALLBACK_TLS_PIN_MISMATCH');
      expect(impostor.requests()).toBe(0);
    }
  });

  it('closes the socket of a TLS handshake that never completes when the ask times out (review F3)', async () => {
    const stalled = await stalledTlsServer();
    try {
      for (let i = 0; i < 3; i += 1) {
        const attempt = await pinnedClient(stalled, tls.cert, { timeoutMs: 300 }).ask(
          'tx_sign_request',
          txPayload(),
        );
        expectFailure(attempt.outcome, 'CALLBACK_TIMEOUT');
      }
      expect(stalled.requests()).toBe(3);
      // Closed by the co-signer, not by the server (which never closes): the wait is bounded
      // only so that a leak fails with the count instead of the test's timeout.
      await Promise.race([stalled.allClosed(), new Promise((r) => setTimeout(r, 5000))]);
      expect(stalled.open()).toBe(0);
    } finally {
      await stalled.close();
    }
  });

  it('fails with CALLBACK_TLS_PIN_MISMATCH against another certificate, before sending a byte', async () => {
    const impostor = await served(
      pinnedHandler(() => approve()),
      otherTls,
    );
    const attempt = await pinnedClient(impostor).ask('tx_sign_request', txPayload());
    expectFailure(attempt.outcome, 'CALLBACK_TLS_PIN_MISMATCH');
    expect(impostor.requests()).toBe(0);
  });

  it('fails with CALLBACK_MALFORMED_RESPONSE on an answer that repeats a member name (review F9)', async () => {
    const tx = txPayload();
    const server = await served(
      fixedAnswer(
        200,
        'application/json',
        `{"action":"REJECT","requestId":${JSON.stringify(tx.requestId)},"action":"APPROVE"}`,
      ),
      tls,
    );
    const attempt = await pinnedClient(server).ask('tx_sign_request', tx);
    expectFailure(attempt.outcome, 'CALLBACK_MALFORMED_RESPONSE');
  });

  it('fails on a replayed answer, an HTML page, a 5xx and a hang', async () => {
    const earlier = txPayload();
    const replay = await served(
      fixedAnswer(
        200,
        'application/json',
        JSON.stringify({ action: 'APPROVE', requestId: earlier.requestId }),
      ),
      tls,
    );
    expectFailure(
      (await pinnedClient(replay).ask('tx_sign_request', txPayload())).outcome,
      'CALLBACK_REQUEST_ID_MISMATCH',
    );
    const html = await served(fixedAnswer(200, 'text/html', '<html>maintenance</html>'), tls);
    expectFailure(
      (await pinnedClient(html).ask('tx_sign_request', txPayload())).outcome,
      'CALLBACK_MALFORMED_RESPONSE',
    );
    const failing = await served(fixedAnswer(503, 'application/json', '{}'), tls);
    expectFailure(
      (await pinnedClient(failing).ask('tx_sign_request', txPayload())).outcome,
      'CALLBACK_HTTP_ERROR',
    );
    const hanging = await served(hangingAnswer, tls);
    const attempt = await pinnedClient(hanging, tls.cert, { timeoutMs: 300 }).ask(
      'tx_sign_request',
      txPayload(),
    );
    expectFailure(attempt.outcome, 'CALLBACK_TIMEOUT');
  });
});

describe('the gate a signing job calls', () => {
  const key = () => cosigner.privateKey;

  it('approves automatically when no handler is configured, asking no one', async () => {
    const result = await askStoredCallbackHandler(null, key, 'tx_sign_request', txPayload());
    expect(result).toEqual({
      outcome: { action: 'APPROVE' },
      attempts: [],
      handlerConfigured: false,
    });
  });

  it('fails closed with CALLBACK_CONFIG_INVALID for damaged settings', async () => {
    const result = await askStoredCallbackHandler(
      { mode: 'jwt', url: 'http://198.51.100.7/cb', publicKey: handlerKeys.publicPem },
      key,
      'tx_sign_request',
      txPayload(),
    );
    expect(result.handlerConfigured).toBe(true);
    expectFailure(result.outcome, 'CALLBACK_CONFIG_INVALID');
  });

  it('asks again after RETRY on the policy`s schedule and ends with the APPROVE (injected sleep)', async () => {
    let asked = 0;
    const server = await served(
      jwtHandler(() => {
        asked += 1;
        return asked < 3 ? retry() : approve();
      }),
    );
    const slept: number[] = [];
    const audited: string[] = [];
    const result = await askStoredCallbackHandler(
      { mode: 'jwt', url: server.url, publicKey: handlerKeys.publicPem },
      key,
      'tx_sign_request',
      txPayload(),
      {
        sleep: (ms) => {
          slept.push(ms);
          return Promise.resolve();
        },
        onAttempt: (attempt) => {
          audited.push(`${attempt.attempt}:${attempt.outcome.action}`);
        },
      },
    );
    expect(result.outcome).toEqual({ action: 'APPROVE' });
    expect(audited).toEqual(['1:RETRY', '2:RETRY', '3:APPROVE']);
    expect(slept).toEqual([180_000, 180_000]);
    expect(result.attempts).toHaveLength(3);
  });

  it('caps the requests in progress per handler: past the cap CALLBACK_HANDLER_BUSY, nothing sent; a freed slot is reused (F11)', async () => {
    let asked = 0;
    const server = await served(jwtHandler(() => (++asked === 1 ? retry() : approve())));
    const stored = { mode: 'jwt' as const, url: server.url, publicKey: handlerKeys.publicPem };
    const slots = new CallbackHandlerSlots(1);
    let wake!: () => void;
    let waiting!: () => void;
    const inWait = new Promise<void>((resolve) => (waiting = resolve));
    const first = askStoredCallbackHandler(stored, key, 'tx_sign_request', txPayload(), {
      slots,
      sleep: () => {
        waiting();
        return new Promise<void>((resolve) => (wake = resolve));
      },
    });
    await inWait; // the first request is waiting on RETRY, holding the one slot
    const second = await askStoredCallbackHandler(stored, key, 'tx_sign_request', txPayload(), {
      slots,
    });
    expect(second).toEqual({
      outcome: {
        action: 'FAILED',
        subStatus: 'CALLBACK_HANDLER_BUSY',
        detail: 'too many requests in progress for this handler',
      },
      attempts: [],
      handlerConfigured: true,
    });
    expect(server.requests()).toBe(1);
    wake();
    expect((await first).outcome).toEqual({ action: 'APPROVE' });
    const third = await askStoredCallbackHandler(stored, key, 'tx_sign_request', txPayload(), {
      slots,
    });
    expect(third.outcome).toEqual({ action: 'APPROVE' });
    expect(server.requests()).toBe(3);
    expect(() => new CallbackHandlerSlots(0)).toThrow(/positive integer/);
  });

  it('pinned-TLS RETRY until the budget is spent ends FAILED with CALLBACK_RETRIES_EXHAUSTED', async () => {
    const server = await served(
      pinnedHandler(() => retry()),
      tls,
    );
    const result = await askStoredCallbackHandler(
      { mode: 'pinned-tls', url: server.url, cert: tls.cert },
      key,
      'config_change_sign_request',
      configChangePayload(),
      { policy: { intervalMs: 5, maxRetries: 2 }, sleep: () => Promise.resolve() },
    );
    expectFailure(result.outcome, 'CALLBACK_RETRIES_EXHAUSTED');
    expect(server.requests()).toBe(3);
  });
});
