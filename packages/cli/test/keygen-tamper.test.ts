/**
 * A platform that tampers with relayed MPC payloads gets nothing: the real platform over HTTP on
 * loopback, whose responses are altered on the way out (one character of each point-to-point
 * payload), and three real co-signer daemons (two cloud, one API) with their own stores. The
 * receiving parties refuse the altered messages and abort: the KEYGEN sessions fail, nobody
 * stores a share. Once the relay behaves, the platform's fresh attempts generate both root keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pairApiKey, runDaemon, type CosignerStore } from '@countersign/cosigner';
import { buildApp, defaultConfig, openDatabase } from '@countersign/platform';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { freshCsrPem, newCosignerStore } from './helpers.js';

describe('KEYGEN with a tampering relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-tamper-'));
  const stop = new AbortController();
  const stores: CosignerStore[] = [];
  const daemons: Promise<void>[] = [];
  const logs: string[] = [];
  let app: FastifyInstance;
  let tamper = true;
  let tampered = 0;

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
    /** The workspace Owner's decision on an API co-signer's pairing. */
    approve?: (requestId: string) => Promise<unknown>,
  ) => {
    const store = await newCosignerStore(join(dir, name), 'tamper test');
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
    return store;
  };

  it('parties abort on altered payloads; honest attempts then succeed', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    app = await buildApp({
      config: { ...defaultConfig, logLevel: 'silent', database: {} },
      database,
      relay: { recheckMs: 200 },
    });
    // The rogue relay: flips one base64 character of every point-to-point payload it serves.
    app.addHook('onSend', (request, _reply, payload, done) => {
      if (!tamper || request.method !== 'GET' || !/\/messages\?/.test(request.url)) {
        done(null, payload);
        return;
      }
      const body = JSON.parse(String(payload)) as {
        messages: { to: number | null; payload: string }[];
      };
      for (const m of body.messages) {
        if (m.to === null) continue;
        const i = Math.floor(m.payload.length / 2);
        m.payload =
          m.payload.slice(0, i) + (m.payload[i] === 'A' ? 'B' : 'A') + m.payload.slice(i + 1);
        tampered++;
      }
      done(null, JSON.stringify(body));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const services = app.services;
    const ws = await services.workspaces.create({ name: 'Tamper', ownerEmail: 'o@tamper.test' });
    for (const slot of [1, 2] as const) {
      const { token } = await services.cloudCosigners.issueToken(slot);
      await newCosigner(`cloud-${slot}`, token, url);
    }
    const csrPem = freshCsrPem(dir, 'signer');
    const signer = await services.apiUsers.create(ws.owner, {
      name: 'signer',
      role: 'SIGNER',
      csrPem,
    });
    const { pairingToken } = await services.pairing.issuePairingToken(ws.owner, signer.user.id);
    const apiStore = await newCosigner('api', pairingToken, url, (requestId) =>
      services.approvals.decide(ws.owner, requestId, 'APPROVE'),
    );

    const sessions = () =>
      services.database.db
        .selectFrom('mpc_sessions')
        .select(['status', 'algorithm'])
        .where('workspace_id', '=', ws.workspaceId)
        .execute();
    const waitFor = async (what: () => Promise<boolean>, ms: number): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!(await what())) {
        if (Date.now() > deadline) throw new Error(`timed out; logs:\n${logs.join('\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    // Under tampering the attempt fails and nobody stores a share. (Switched off at the first
    // failure: the platform gives up on an algorithm after 5 attempts.)
    await waitFor(async () => (await sessions()).some((s) => s.status === 'FAILED'), 120_000);
    expect(tampered).toBeGreaterThan(0);
    expect(logs.some((l) => /job failed.*ERR_CHANNEL_SIGNATURE_INVALID/.test(l))).toBe(true);
    for (const s of stores) expect(s.shareSets.listShareSets()).toEqual([]);

    // The relay behaves again: the platform's next fresh attempts succeed.
    tamper = false;
    await waitFor(async () => {
      const rows = await services.database.db
        .selectFrom('root_keys')
        .select('algorithm')
        .where('workspace_id', '=', ws.workspaceId)
        .execute();
      return rows.length === 2;
    }, 240_000);
    const keys = await services.database.db
      .selectFrom('root_keys')
      .select(['algorithm', 'public_key'])
      .where('workspace_id', '=', ws.workspaceId)
      .execute();
    for (const s of stores) {
      const sets = s.shareSets.listShareSets();
      expect(sets.map((x) => x.algorithm).sort()).toEqual(['ECDSA_SECP256K1', 'EDDSA_ED25519']);
      for (const set of sets) {
        const pub = JSON.parse(s.getMeta(`share_set_public:${set.id}`)!) as { publicKey: string };
        expect(pub.publicKey).toBe(keys.find((k) => k.algorithm === set.algorithm)!.public_key);
      }
    }
    expect(apiStore.shareSets.listShareSets()[0]!.apiKeyId).toBe(signer.user.id);
  }, 400_000);
});
