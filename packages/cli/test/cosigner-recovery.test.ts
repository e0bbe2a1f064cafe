/**
 * Recovery with the identity key, co-signer side (pairing review H2): the real platform over
 * HTTP on loopback and a real co-signer store. A platform that commits and then loses its answer
 * — the connection dies after the commit, as when an instance is killed or a proxy gives up —
 * once for the poll that carries the co-signer's first refresh token and once for a rotation:
 * each time the co-signer is left without a usable token, and each time it recovers a new token
 * family with its identity key, without pairing again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pairApiKey, PlatformCredentials, type CosignerStore } from '@countersign/cosigner';
import { buildApp, defaultConfig, openDatabase } from '@countersign/platform';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { freshCsrPem, newCosignerStore } from './helpers.js';

describe('co-signer recovery after a lost answer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-recovery-'));
  let app: FastifyInstance;
  let store: CosignerStore | undefined;
  /** The next answer on this path is lost after the platform committed it. */
  let lose: RegExp | undefined;
  afterAll(async () => {
    store?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recovers a lost first refresh token and a lost rotation', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    app = await buildApp({
      config: { ...defaultConfig, logLevel: 'silent', database: {} },
      database,
    });
    app.addHook('onSend', (request, reply, payload, done) => {
      if (lose !== undefined && reply.statusCode === 200 && lose.test(request.url)) {
        const body = JSON.parse(String(payload)) as { status?: string };
        // A poll still waiting is not the answer we mean to lose.
        if (body.status !== 'WAITING_FOR_APPROVAL') {
          lose = undefined;
          request.raw.socket.destroy();
        }
      }
      done(null, payload);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const services = app.services;
    const ws = await services.workspaces.create({ name: 'Recovery', ownerEmail: 'o@r.test' });
    const csrPem = freshCsrPem(dir, 'signer');
    const signer = await services.apiUsers.create(ws.owner, { name: 's', role: 'SIGNER', csrPem });
    const { pairingToken } = await services.pairing.issuePairingToken(ws.owner, signer.user.id);

    store = await newCosignerStore(join(dir, 'cosigner'), 'recovery test');

    // 1. The poll answer carrying the first refresh token is lost; the poll token is then spent.
    lose = /^\/cosigner\/v1\/pairings\//;
    const outcome = await pairApiKey(store, {
      pairingToken,
      platformUrl: url,
      name: 'recovering',
      wait: {
        timeoutMs: 60_000,
        pollIntervalMs: 50,
        onWaiting: (p) => services.approvals.decide(ws.owner, p.requestId, 'APPROVE'),
      },
    });
    expect(lose).toBeUndefined(); // the answer was indeed lost
    expect(outcome.status).toBe('PAIRED');
    const access = await new PlatformCredentials(store).accessToken();
    expect((await new PlatformCredentials(store).client.apiKeys(access)).apiKeys).toMatchObject([
      { apiKeyId: signer.user.id, status: 'PAIRED' },
    ]);

    // 2. A rotation is committed and its answer lost: the store keeps the spent token.
    lose = /^\/cosigner\/v1\/token$/;
    await expect(new PlatformCredentials(store).accessToken()).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE',
    });
    expect(lose).toBeUndefined();
    // The next use presents the spent token (the platform revokes the family), then recovers.
    const credentials = new PlatformCredentials(store);
    const recovered = await credentials.accessToken();
    expect((await credentials.client.apiKeys(recovered)).apiKeys).toHaveLength(1);

    const actions = (await services.audit.page({ workspaceId: ws.workspaceId, limit: 500 })).map(
      (e) => e.action,
    );
    expect(actions.filter((a) => a === 'cosigner.recovered')).toHaveLength(2);
    expect(actions).toContain('cosigner.refresh_token_reused');
  }, 120_000);
});
