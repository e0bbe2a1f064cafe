// The handler in JWT mode over real loopback HTTP (node:http adapter) and through the Fastify
// plugin: decisions signed and echoed, and every kind of bad input answered without a decision.
import { createServer, type Server } from 'node:http';

import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  approve,
  callbackHandlerPlugin,
  createCallbackHandler,
  createNodeRequestListener,
  reject,
  retry,
  signCallbackRequest,
  signRs256Jwt,
  verifyCallbackResponse,
  type CallbackAuditEvent,
  type CallbackHandlerOptions,
  type TxSignRequest,
} from '../src/index.js';
import {
  close,
  configChangeRequest,
  listen,
  nowSeconds,
  post,
  rsaPair,
  txSignRequest,
} from './helpers.js';

const cosigner = rsaPair();
const handlerKeys = rsaPair();
const stranger = rsaPair();

const verifyOpts = (expectedRequestId: string) => ({
  nowSeconds: nowSeconds(),
  clockSkewSeconds: 30,
  requireTimestamps: true,
  expectedRequestId,
});

/** A handler on a real loopback server; `decide` and options vary per test. */
async function serve(options: Partial<CallbackHandlerOptions> = {}) {
  const handler = createCallbackHandler({
    mode: {
      type: 'jwt',
      cosignerPublicKey: cosigner.publicPem,
      handlerPrivateKey: handlerKeys.privatePem,
    },
    onTxSignRequest: () => approve(),
    ...options,
  });
  const server = createServer(createNodeRequestListener(handler, { pathPrefix: '/cb' }));
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/cb`, server };
}

const signed = (payload: object, key = cosigner.privateKey) =>
  signCallbackRequest(payload as Record<string, unknown>, key, nowSeconds());

describe('JWT mode over node:http', () => {
  const decisions: TxSignRequest[] = [];
  const audit: CallbackAuditEvent[] = [];
  let url = '';
  let server: Server;

  beforeAll(async () => {
    ({ url, server } = await serve({
      onTxSignRequest: async (request) => {
        decisions.push(request);
        await Promise.resolve();
        if (request.asset === 'BTC') return reject('no BTC today');
        if (request.asset === 'SOL') return retry();
        return approve();
      },
      audit: (event) => {
        audit.push(event);
      },
    }));
  });
  afterAll(() => close(server));

  it('approves with a JWT signed by the handler key that echoes the requestId', async () => {
    const payload = txSignRequest();
    const answer = await post(`${url}/v2/tx_sign_request`, signed(payload));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/jwt');
    const response = verifyCallbackResponse(
      answer.body,
      handlerKeys.publicKey,
      verifyOpts(payload.requestId),
    );
    expect(response).toEqual({ action: 'APPROVE', requestId: payload.requestId });
    // The decision function saw the typed payload without the JWT time claims.
    expect(decisions.at(-1)).toEqual(payload);
  });

  it('passes REJECT with its reason and RETRY through, signed', async () => {
    const btc = txSignRequest({ asset: 'BTC' });
    const rejected = await post(`${url}/v2/tx_sign_request`, signed(btc));
    expect(
      verifyCallbackResponse(rejected.body, handlerKeys.publicKey, verifyOpts(btc.requestId)),
    ).toEqual({ action: 'REJECT', requestId: btc.requestId, rejectionReason: 'no BTC today' });
    const sol = txSignRequest({ asset: 'SOL' });
    const retried = await post(`${url}/v2/tx_sign_request`, signed(sol));
    expect(
      verifyCallbackResponse(retried.body, handlerKeys.publicKey, verifyOpts(sol.requestId)).action,
    ).toBe('RETRY');
  });

  it('refuses a request signed by another key, alg none and an expired token — 401, no decision', async () => {
    const before = decisions.length;
    const payload = txSignRequest();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const n = nowSeconds();
    const tokens = [
      signed(payload, stranger.privateKey),
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...payload, iat: n, exp: n + 60 })}.`,
      signRs256Jwt({ ...payload, iat: n - 600, exp: n - 540 }, cosigner.privateKey),
      signRs256Jwt({ ...payload }, cosigner.privateKey), // no iat/exp
      JSON.stringify(payload), // plain JSON in JWT mode
    ];
    for (const token of tokens) {
      const answer = await post(`${url}/v2/tx_sign_request`, token);
      expect(answer.status).toBe(401);
      expect(answer.contentType).toBe('application/json');
      expect(JSON.parse(answer.body).code).toMatch(/^ERR_CALLBACK_JWT_/);
    }
    expect(decisions.length).toBe(before);
  });

  it('refuses schema violations with 400 naming the field, and never decides', async () => {
    const before = decisions.length;
    const cases: [object, RegExp][] = [
      [{ ...txSignRequest(), surprise: 1 }, /unknown field "surprise"/],
      [{ ...txSignRequest(), amountStr: '1e3' }, /\/amountStr/],
      [{ ...txSignRequest(), amountStr: -1 }, /\/amountStr/],
      [(({ requestId: _r, ...rest }) => rest)(txSignRequest()), /missing field "requestId"/],
      [
        txSignRequest({ destinations: [{ amountNativeStr: '1', dstType: 'VAULT' } as never] }),
        /\/destinations\/0: missing field "dstId"/,
      ],
      [
        txSignRequest({
          rawMessages: [{ content: 'zz', derivationPath: [], algorithm: 'MPC_ECDSA_SECP256K1' }],
        }),
        /\/rawMessages\/0\/content/,
      ],
    ];
    for (const [payload, message] of cases) {
      const answer = await post(`${url}/v2/tx_sign_request`, signed(payload));
      expect(answer.status).toBe(400);
      const body = JSON.parse(answer.body);
      expect(body.code).toBe('ERR_CALLBACK_INVALID_PAYLOAD');
      expect(body.message).toMatch(message);
    }
    expect(decisions.length).toBe(before);
  });

  it('answers 404 for an unknown path, 405 for GET, 413 for an oversized body', async () => {
    expect((await post(`${url}/v2/other`, 'x')).status).toBe(404);
    expect((await post(`${url}/v2/tx_sign_request`, '', { method: 'GET' })).status).toBe(405);
    const big = await post(`${url}/v2/tx_sign_request`, Buffer.alloc(1024 * 1024 + 1, 0x61)).catch(
      (error: NodeJS.ErrnoException) => ({ status: error.code ?? 'error' }),
    );
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(big.status);
  });

  it('rejects configuration changes when no decision function is given for them', async () => {
    const payload = configChangeRequest();
    const answer = await post(`${url}/v2/config_change_sign_request`, signed(payload));
    const response = verifyCallbackResponse(
      answer.body,
      handlerKeys.publicKey,
      verifyOpts(payload.requestId),
    );
    expect(response.action).toBe('REJECT');
  });

  it('audits every request with the validated payload and never the token', () => {
    expect(audit.length).toBeGreaterThanOrEqual(10);
    const answered = audit.filter((e) => e.outcome === 'answered');
    expect(answered.every((e) => e.requestId !== undefined && e.action !== undefined)).toBe(true);
    expect(audit.some((e) => e.outcome === 'refused' && e.status === 401)).toBe(true);
    const text = JSON.stringify(audit);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./); // no JWT
    expect(text).not.toContain('PRIVATE KEY');
  });
});

describe('decision failures fail closed', () => {
  it('a throwing decision function is a 500, never an approval', async () => {
    const onDecisionError = vi.fn();
    const { url, server } = await serve({
      onTxSignRequest: () => {
        throw new Error('database down: password=hunter2');
      },
      onDecisionError,
    });
    try {
      const answer = await post(`${url}/v2/tx_sign_request`, signed(txSignRequest()));
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body)).toEqual({
        code: 'ERR_CALLBACK_DECISION_FAILED',
        message: 'decision function threw',
      });
      expect(answer.body).not.toContain('hunter2');
      expect(onDecisionError).toHaveBeenCalledOnce();
    } finally {
      await close(server);
    }
  });

  it('a decision that is not a decision is a 500', async () => {
    for (const value of [
      undefined,
      'APPROVE',
      { action: 'approve' },
      { action: 'APPROVE', rejectionReason: 5 },
    ]) {
      const { url, server } = await serve({ onTxSignRequest: () => value as never });
      try {
        const answer = await post(`${url}/v2/tx_sign_request`, signed(txSignRequest()));
        expect(answer.status).toBe(500);
        expect(JSON.parse(answer.body).code).toBe('ERR_CALLBACK_DECISION_FAILED');
      } finally {
        await close(server);
      }
    }
  });

  it('a decision slower than decisionTimeoutMs is a 503 and its signal is aborted', async () => {
    let signal: AbortSignal | undefined;
    const { url, server } = await serve({
      decisionTimeoutMs: 100,
      onTxSignRequest: (_request, context) => {
        signal = context.signal;
        return new Promise(() => {}); // never settles
      },
    });
    try {
      const answer = await post(`${url}/v2/tx_sign_request`, signed(txSignRequest()));
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body).code).toBe('ERR_CALLBACK_DECISION_TIMEOUT');
      expect(signal?.aborted).toBe(true);
    } finally {
      await close(server);
    }
  });

  it('an approval that cannot be audited is not sent', async () => {
    const { url, server } = await serve({
      audit: () => Promise.reject(new Error('disk full')),
    });
    try {
      const answer = await post(`${url}/v2/tx_sign_request`, signed(txSignRequest()));
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body).code).toBe('ERR_CALLBACK_AUDIT_FAILED');
    } finally {
      await close(server);
    }
  });

  it('audits the payload as received even if the decision function mutates its copy', async () => {
    const events: CallbackAuditEvent[] = [];
    const { url, server } = await serve({
      onTxSignRequest: (request) => {
        request.amountStr = '0';
        request.destinations.length = 0;
        return approve();
      },
      audit: (event) => {
        events.push(event);
      },
    });
    try {
      const payload = txSignRequest({ amountStr: '5' });
      expect((await post(`${url}/v2/tx_sign_request`, signed(payload))).status).toBe(200);
      expect(events[0]?.request).toEqual(payload);
    } finally {
      await close(server);
    }
  });

  it("bounds an error message built from the sender's field names", async () => {
    const { url, server } = await serve();
    try {
      const payload = { ...txSignRequest(), ['x'.repeat(10_000)]: 1 };
      const answer = await post(`${url}/v2/tx_sign_request`, signed(payload));
      expect(answer.status).toBe(400);
      const message = (JSON.parse(answer.body) as { message: string }).message;
      expect(message.length).toBeLessThan(400);
      expect(message).toMatch(/unknown field "x{64}"/);
    } finally {
      await close(server);
    }
  });

  it('refuses bad options at construction', () => {
    const mode = {
      type: 'jwt' as const,
      cosignerPublicKey: cosigner.publicPem,
      handlerPrivateKey: handlerKeys.privatePem,
    };
    const onTxSignRequest = () => approve();
    expect(() =>
      createCallbackHandler({ mode, onTxSignRequest, decisionTimeoutMs: 30_000 }),
    ).toThrow(/decisionTimeoutMs/);
    expect(() =>
      createCallbackHandler({ mode: { ...mode, clockSkewSeconds: 3600 }, onTxSignRequest }),
    ).toThrow(/clockSkewSeconds/);
    expect(() =>
      createCallbackHandler({
        mode: { ...mode, handlerPrivateKey: handlerKeys.publicPem },
        onTxSignRequest,
      }),
    ).toThrow(/handler private key/);
  });
});

describe('Fastify plugin', () => {
  it('serves both paths under a prefix, reads the raw body whatever its content type', async () => {
    const handler = createCallbackHandler({
      mode: {
        type: 'jwt',
        cosignerPublicKey: cosigner.publicKey,
        handlerPrivateKey: handlerKeys.privateKey,
      },
      onTxSignRequest: (request) => (request.asset === 'ETH' ? approve() : reject('asset')),
      onConfigChangeSignRequest: (request) =>
        request.type === 'UNMANAGED_WALLET' ? approve() : reject('type'),
      maxBodyBytes: 64 * 1024,
    });
    const app = Fastify();
    await app.register(callbackHandlerPlugin, { handler, prefix: '/callback' });
    try {
      for (const contentType of ['application/jwt', 'application/json', 'text/plain']) {
        const payload = txSignRequest();
        const answer = await app.inject({
          method: 'POST',
          url: '/callback/v2/tx_sign_request',
          headers: { 'content-type': contentType },
          payload: signed(payload),
        });
        expect(answer.statusCode).toBe(200);
        expect(
          verifyCallbackResponse(answer.body, handlerKeys.publicKey, verifyOpts(payload.requestId)),
        ).toEqual({ action: 'APPROVE', requestId: payload.requestId });
      }
      const change = configChangeRequest();
      const cfg = await app.inject({
        method: 'POST',
        url: '/callback/v2/config_change_sign_request',
        headers: { 'content-type': 'application/jwt' },
        payload: signed(change),
      });
      expect(
        verifyCallbackResponse(cfg.body, handlerKeys.publicKey, verifyOpts(change.requestId))
          .action,
      ).toBe('APPROVE');
      const forged = await app.inject({
        method: 'POST',
        url: '/callback/v2/tx_sign_request',
        headers: { 'content-type': 'application/jwt' },
        payload: signed(txSignRequest(), stranger.privateKey),
      });
      expect(forged.statusCode).toBe(401);
      const big = await app.inject({
        method: 'POST',
        url: '/callback/v2/tx_sign_request',
        headers: { 'content-type': 'application/jwt' },
        payload: 'a'.repeat(64 * 1024 + 1),
      });
      expect(big.statusCode).toBe(413);
    } finally {
      await app.close();
    }
  });
});
