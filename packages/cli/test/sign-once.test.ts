/**
 * A transaction is signed at most once (ARCHITECTURE §8), even by a platform that asks again:
 * the real platform over HTTP on loopback and three real co-signer daemons (two cloud, one
 * API) with their own stores sign an Ed25519 RAW transaction; then the platform — as a
 * compromised one could — opens a fresh SIGN session for the same message under a new, validly
 * signed authorization. Every party refuses it from its signing record before any nonce
 * exists: the session fails and not one message is relayed in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pairApiKey, runDaemon, type CosignerStore } from '@countersign/cosigner';
import { buildApp, defaultConfig, openDatabase, type Principal } from '@countersign/platform';
import { encodeSigningAuthorization } from '@countersign/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { freshCsrPem, newCosignerStore } from './helpers.js';

describe('a message is signed once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-sign-once-'));
  const stop = new AbortController();
  const stores: CosignerStore[] = [];
  const daemons: Promise<void>[] = [];
  const logs: string[] = [];
  let app: FastifyInstance;

  afterAll(async () => {
    stop.abort();
    await Promise.allSettled(daemons);
    for (const s of stores) s.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newCosigner = async (
    name: string,
    pairingToken: string,
    url: string,
    approve?: (requestId: string) => Promise<unknown>,
  ): Promise<void> => {
    const store = await newCosignerStore(join(dir, name), 'sign once test');
    stores.push(store);
    await pairApiKey(store, {
      pairingToken,
      platformUrl: url,
      name,
      wait: { timeoutMs: 60_000, pollIntervalMs: 50, onWaiting: (p) => approve?.(p.requestId) },
    });
    daemons.push(
      runDaemon({
        store,
        // Cloud Co-signers have no Callback Handlers; the API co-signer asks (none configured).
        mode: name.startsWith('cloud') ? 'cloud' : 'api',
        signal: stop.signal,
        log: {
          info: (m, f) => logs.push(`${name} ${m} ${JSON.stringify(f ?? {})}`),
          warn: (m, f) => logs.push(`${name} WARN ${m} ${JSON.stringify(f ?? {})}`),
        },
      }),
    );
  };

  const waitFor = async (what: () => Promise<boolean>, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error(`timed out; logs:\n${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('refuses a fresh session for a message it already signed; nothing is relayed', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    app = await buildApp({
      config: { ...defaultConfig, logLevel: 'silent', database: {} },
      database,
      relay: { recheckMs: 200 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const { services } = app;
    const db = services.database.db;
    const ws = await services.workspaces.create({ name: 'Once', ownerEmail: 'o@once.test' });
    for (const slot of [1, 2] as const) {
      const { token } = await services.cloudCosigners.issueToken(slot);
      await newCosigner(`cloud-${slot}`, token, url);
    }
    const signer = await services.apiUsers.create(ws.owner, {
      name: 'signer',
      role: 'SIGNER',
      csrPem: freshCsrPem(dir, 'signer'),
    });
    const { pairingToken } = await services.pairing.issuePairingToken(ws.owner, signer.user.id);
    await newCosigner('api', pairingToken, url, (requestId) =>
      services.approvals.decide(ws.owner, requestId, 'APPROVE'),
    );
    await waitFor(async () => {
      const keys = await db
        .selectFrom('root_keys')
        .select('algorithm')
        .where('workspace_id', '=', ws.workspaceId)
        .execute();
      return keys.some((k) => k.algorithm === 'EDDSA_ED25519');
    }, 240_000);

    const principal: Principal = {
      kind: 'api_user',
      id: signer.user.id,
      workspaceId: ws.workspaceId,
      role: 'SIGNER',
      name: 'signer',
    };
    const content = Buffer.from('sign me once').toString('hex');
    const { id } = await services.transactions.create(
      principal,
      {
        operation: 'RAW',
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        extraParameters: {
          rawMessageData: { algorithm: 'MPC_EDDSA_ED25519', messages: [{ content }] },
        },
      },
      undefined,
    );
    await waitFor(
      async () => (await services.transactions.get(ws.workspaceId, id)).status === 'COMPLETED',
      120_000,
    );
    const first = await db
      .selectFrom('transaction_messages')
      .select(['session_id', 'derivation_path'])
      .where('transaction_id', '=', id)
      .executeTakeFirstOrThrow();
    const signing = await db
      .selectFrom('mpc_sessions')
      .select(['share_set_id', 'api_user_id'])
      .where('id', '=', first.session_id!)
      .executeTakeFirstOrThrow();
    const parties = await db
      .selectFrom('mpc_session_parties')
      .select(['party_index as index', 'cosigner_id as cosignerId'])
      .where('session_id', '=', first.session_id!)
      .orderBy('party_index')
      .execute();

    // The platform asks again: a fresh session, a validly signed authorization, same message.
    const again = await db.transaction().execute((trx) =>
      services.mpcSessions.create(trx, {
        workspaceId: ws.workspaceId,
        apiUserId: signing.api_user_id,
        purpose: 'SIGN',
        algorithm: 'EDDSA_ED25519',
        shareSetId: signing.share_set_id,
        threshold: 3,
        parties,
        ttlMs: 60_000,
        authorization: (sessionId, expiresAt) =>
          encodeSigningAuthorization({
            sessionId,
            shareSetId: signing.share_set_id,
            algorithm: 'EDDSA_ED25519',
            transactionId: id,
            messageIndex: 0,
            derivationPath: first.derivation_path as number[],
            content: Buffer.from(content, 'hex'),
            expiresAt,
          }),
      }),
    );
    services.mpcSessions.announce(parties.map((p) => p.cosignerId));
    await waitFor(async () => {
      const s = await db
        .selectFrom('mpc_sessions')
        .select('status')
        .where('id', '=', again)
        .executeTakeFirstOrThrow();
      return s.status === 'FAILED';
    }, 60_000);
    const session = await db
      .selectFrom('mpc_sessions')
      .select('failure_reason')
      .where('id', '=', again)
      .executeTakeFirstOrThrow();
    expect(session.failure_reason).toMatch(/already released/);
    // Not one message — no nonce commitment, no share — was relayed in the second session.
    const relayed = await db
      .selectFrom('mpc_messages')
      .select('seq')
      .where('session_id', '=', again)
      .execute();
    expect(relayed).toEqual([]);
    // Each store still holds the first signing, SIGNED.
    for (const store of stores) expect(store.signingRecords.state(id, 0)).toBe('SIGNED');
    // And the transaction keeps its one signature.
    const tx = await services.transactions.get(ws.workspaceId, id);
    expect(tx.status).toBe('COMPLETED');
    expect(tx.signedMessages).toHaveLength(1);
  }, 400_000);
});
