/**
 * The API co-signer asks its Callback Handler before it signs (raw-signing review C1), end to end
 * with real processes (signing-stack.ts): the handler is configured with `cosigner callback set`
 * on the API co-signer's home, as an operator would, and is a genuine handler built with
 * `@countersign/callback-handler` on loopback (JWT mode over http to 127.0.0.1). APPROVE → the
 * transaction completes; RETRY on a signing from a pooled nonce set → the Cloud Co-signers stay
 * held, and a fresh session asks again and completes (pooled EdDSA review H1); REJECT → REJECTED
 * with the handler's reason and no signature; an unreachable handler → FAILED, never COMPLETED
 * (the review's reproduction of C1).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  approve,
  createCallbackHandler,
  createNodeRequestListener,
  reject,
  retry,
  type CallbackDecision,
} from '@countersign/callback-handler';
import type { TxSignRequest } from '@countersign/protocol';
import { Fireblocks } from '@fireblocks/ts-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cosigner,
  presignaturePool,
  startSigningStack,
  type SigningStack,
} from './signing-stack.js';

interface TransactionView {
  id: string;
  status: string;
  subStatus: string;
  subStatusDetail?: string;
  signedMessages: unknown[];
  signedBy: string[];
}

describe('the API co-signer asks its Callback Handler before signing', () => {
  let stack: SigningStack;
  let fireblocks: Fireblocks;
  let server: Server;
  let handlerUrl: string;
  /** What the handler answers next, and every request it was asked. */
  let decide: (request: TxSignRequest) => CallbackDecision = () => approve();
  const asked: TxSignRequest[] = [];

  beforeAll(async () => {
    stack = await startSigningStack('countersign-callback-');
    fireblocks = new Fireblocks({
      apiKey: stack.devApiKey,
      secretKey: stack.devPrivateKeyPem,
      basePath: `${stack.platformUrl}/v1`,
    });
    // The handler verifies the co-signer's requests with the key `print-public-key` prints.
    const printed = cosigner(['print-public-key', '--home', 'api-cosigner'], stack.cwd);
    expect(printed.status, printed.stderr).toBe(0);
    const handlerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const listener = createNodeRequestListener(
      createCallbackHandler({
        mode: {
          type: 'jwt',
          cosignerPublicKey: createPublicKey(printed.stdout),
          handlerPrivateKey: handlerKeys.privateKey,
        },
        onTxSignRequest: (request) => {
          asked.push(request);
          return decide(request);
        },
        onConfigChangeSignRequest: () => reject('not expected in this test'),
      }),
    );
    server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    handlerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(
      join(stack.cwd, 'handler-public.pem'),
      handlerKeys.publicKey.export({ type: 'spki', format: 'pem' }),
    );
  }, 400_000);
  afterAll(async () => {
    if (stack) {
      await stack.stop();
      stack.remove();
    }
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  const setHandler = (url: string): void => {
    const r = cosigner(
      [
        'callback',
        'set',
        stack.signerId,
        '--url',
        url,
        '--public-key',
        'handler-public.pem',
        '--home',
        'api-cosigner',
      ],
      stack.cwd,
    );
    expect(r.status, r.stderr).toBe(0);
  };

  const view = async (txId: string): Promise<TransactionView> =>
    (await fireblocks.transactions.getTransaction({ txId })).data as unknown as TransactionView;

  /** Reads the transaction until it leaves SUBMITTED/PENDING_SIGNATURE (no fixed sleep). */
  const settled = async (txId: string): Promise<TransactionView> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const tx = await view(txId);
      if (!['SUBMITTED', 'PENDING_SIGNATURE'].includes(tx.status)) return tx;
      if (Date.now() > deadline) throw new Error(`still ${tx.status}:\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const createRaw = async (text: string): Promise<{ id: string; content: string }> => {
    const content = Buffer.from(text).toString('hex');
    const created = await fireblocks.transactions.createTransaction({
      transactionRequest: {
        operation: 'RAW',
        source: { type: 'VAULT_ACCOUNT', id: '3' },
        note: text,
        extraParameters: {
          rawMessageData: { algorithm: 'MPC_EDDSA_ED25519', messages: [{ content }] },
        },
      },
    });
    expect(created.statusCode).toBe(200);
    return { id: created.data.id!, content };
  };

  it('APPROVE: the handler is asked with the authorized message, then the transaction completes', async () => {
    setHandler(handlerUrl);
    decide = () => approve();
    asked.length = 0;
    const { id, content } = await createRaw('callback approves');
    const tx = await settled(id);
    expect(tx, stack.logs()).toMatchObject({ status: 'COMPLETED', signedBy: [stack.signerId] });
    expect(tx.signedMessages).toHaveLength(1);
    // Asked once per session that reached the API co-signer; every ask the same request.
    expect(asked.length).toBeGreaterThanOrEqual(1);
    const request = asked[0]!;
    expect(asked.every((r) => r.requestId === request.requestId)).toBe(true);
    expect(request).toMatchObject({
      txId: id,
      operation: 'RAW',
      signerId: stack.signerId,
      asset: '',
      sourceType: '',
      destinations: [],
      rawMessages: [{ content, derivationPath: [44, 0, 3, 0, 0], algorithm: 'MPC_EDDSA_ED25519' }],
    });
    expect(request.requestId).toMatch(new RegExp(`^${id}:0:[0-9a-f]{32}$`));
  });

  it('RETRY on a signing from a pooled nonce set: no cloud share leaves, and a fresh session asks again and completes (pooled EdDSA review H1)', async () => {
    setHandler(handlerUrl);
    // The pool settled, so the first session names a nonce set (counted TAKEN when named).
    const deadline = Date.now() + 120_000;
    while (((await presignaturePool(stack, 'EDDSA_ED25519'))['MAKING'] ?? 0) > 0) {
      if (Date.now() > deadline) throw new Error('the nonce set pool never settled');
      await new Promise((r) => setTimeout(r, 100));
    }
    const takenBefore = (await presignaturePool(stack, 'EDDSA_ED25519'))['TAKEN'] ?? 0;
    // RETRY once: its re-ask, minutes away, would come after the session's deadline, so the
    // co-signer gives the session up (CALLBACK_SESSION_DEADLINE) without saying it will sign.
    let answers = 0;
    decide = () => (answers++ === 0 ? retry() : approve());
    asked.length = 0;
    /** How many of `home`'s log events so far are `what`. */
    const count = (home: string, what: (e: Record<string, unknown>) => boolean) =>
      stack.events(home).filter(what).length;
    const gaveUp = (e: Record<string, unknown>) =>
      e['message'] === 'job failed' && e['subStatus'] === 'CALLBACK_SESSION_DEADLINE';
    const signDone = (e: Record<string, unknown>) =>
      e['message'] === 'job done' && e['type'] === 'SIGN';
    const before = {
      gaveUp: count('api-cosigner', gaveUp),
      clouds: ['cloud-1', 'cloud-2'].map((home) => count(home, signDone)),
      events: ['cloud-1', 'cloud-2'].map((home) => stack.events(home).length),
    };
    const { id } = await createRaw('callback retries');
    const tx = await settled(id);
    // Had the clouds computed in the first session, every fresh one would be refused as
    // SIGNATURE_MAY_EXIST; held until their signer was ready, they sign again in the next.
    expect(tx, stack.logs()).toMatchObject({ status: 'COMPLETED', signedBy: [stack.signerId] });
    expect(tx.signedMessages).toHaveLength(1);
    expect(asked.length).toBe(2);
    expect(asked.every((r) => r.txId === id)).toBe(true);
    expect(((await presignaturePool(stack, 'EDDSA_ED25519'))['TAKEN'] ?? 0) - takenBefore).toBe(1);
    // The first session ended at the API co-signer, with no cloud share computed: each cloud
    // signed one SIGN job, the fresh session's (session review L4). A cloud that leased the first
    // session's job while it was held (its signer had leased its own) sees that session's end at
    // its release poll's next re-check (docs/mpc-relay.md, Long polls), which can come after the
    // fresh session completed, and fails it with nothing spent.
    expect(count('api-cosigner', gaveUp) - before.gaveUp).toBe(1);
    expect(
      ['cloud-1', 'cloud-2'].map((home, i) => count(home, signDone) - before.clouds[i]!),
    ).toEqual([1, 1]);
    const heldEnds = () =>
      ['cloud-1', 'cloud-2'].flatMap((home, i) => {
        const events = stack.events(home).slice(before.events[i]);
        return events
          .filter((e) => e['message'] === 'job leased' && e['held'])
          .map((leased) =>
            events
              .filter((e) => e['jobId'] === leased['jobId'] && e['message'] !== 'job leased')
              .map((e) => e['message']),
          );
      });
    await vi.waitFor(() => expect(heldEnds().every((ends) => ends.length > 0)).toBe(true), {
      timeout: 10_000,
      interval: 100,
    });
    expect(heldEnds()).toEqual(heldEnds().map(() => ['job failed']));
  });

  it('REJECT: the transaction ends REJECTED with the reason, and nothing is signed', async () => {
    setHandler(handlerUrl);
    decide = () => reject('destination not on the treasury allowlist');
    asked.length = 0;
    const { id } = await createRaw('callback rejects');
    const tx = await settled(id);
    expect(tx, stack.logs()).toMatchObject({
      status: 'REJECTED',
      subStatus: 'REJECTED_BY_CALLBACK',
      subStatusDetail: 'destination not on the treasury allowlist',
      signedMessages: [],
      signedBy: [],
    });
    // A refusal is final: the platform did not open a fresh session to ask again.
    expect(asked.map((r) => r.txId)).toEqual([id]);
  });

  it('an unreachable handler: FAILED with CALLBACK_UNREACHABLE, never COMPLETED', async () => {
    // A port nothing listens on: bound, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    setHandler(`http://127.0.0.1:${port}`);
    const { id } = await createRaw('callback unreachable');
    const tx = await settled(id);
    expect(tx, stack.logs()).toMatchObject({
      status: 'FAILED',
      subStatus: 'CALLBACK_UNREACHABLE',
      signedMessages: [],
    });
    expect((await view(id)).status).toBe('FAILED');
  });
});
