/**
 * Transactions (RAW signing) on the platform: a request is checked and stored before the answer,
 * `Idempotency-Key` answers the same transaction for the same body, each message gets a SIGN
 * session among the signer's share-set parties with a signing authorization signed by the
 * platform key, and the transaction is COMPLETED only once every party reports the same
 * signature and the platform verified it. Parties here are HTTP clients of the co-signer protocol
 * (the real daemons sign in packages/cli/test/cosigner-sign.test.ts); their "signature" is made
 * with an Ed25519 key of the test, standing in for the derived key.
 */
import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  decodeSignedSigningAuthorization,
  decodeSignedRoster,
  type CreateTransactionRequest,
} from '@countersign/protocol';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../src/services.js';
import { pairNewCosigner, refresh } from './helpers/cosigner.js';
import { registerClouds } from './helpers/relay-party.js';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

interface Party {
  cosignerId: string;
  accessToken: string;
}

interface Job {
  jobId: string;
  type: string;
  leaseId: string;
  sessionId: string;
  algorithm: string;
  shareSetId: string;
}

const eddsaRequest = (content: string, extra: Record<string, unknown> = {}) => ({
  operation: 'RAW',
  source: { type: 'VAULT_ACCOUNT', id: '7' },
  note: 'platform test',
  extraParameters: {
    // The root key itself (empty path): the test signs with it. The default path is checked
    // where nothing is signed, and end to end with real co-signers.
    rawMessageData: {
      algorithm: 'MPC_EDDSA_ED25519',
      messages: [{ content, derivationPath: [], ...extra }],
    },
  },
});

describe('transactions: RAW signing orchestration', () => {
  let p: TestPlatform;
  let admin: TestApiUser;
  let viewer: TestApiUser;
  let parties: Party[];
  let signerUserId: string;
  let derivedKey: { privateKey: KeyObject; publicKeyHex: string };
  let ecdsaRoot: HDKey;

  const call = (who: Party, method: 'GET' | 'POST', url: string, payload?: object) =>
    p.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${who.accessToken}` },
      ...(payload ? { payload: payload as Record<string, unknown> } : {}),
    });
  const accessFor = async (refreshToken: string): Promise<string> =>
    (await refresh(p, refreshToken)).json<{ accessToken: string }>().accessToken;
  const nextJob = async (who: Party): Promise<Job | undefined> =>
    (await call(who, 'GET', '/cosigner/v1/work?wait=0')).json<{ jobs: Job[] }>().jobs[0];
  const report = (who: Party, job: Job, body: object) =>
    call(who, 'POST', `/cosigner/v1/jobs/${job.jobId}/result`, { leaseId: job.leaseId, ...body });
  const create = (body: object, headers: Record<string, string> = {}) =>
    signedRequest(p, admin, 'POST', '/v1/transactions', { body, headers });
  const read = async (id: string) =>
    (await signedRequest(p, admin, 'GET', `/v1/transactions/${id}`)).json<{
      status: string;
      subStatus: string;
      signedMessages: { content: string; signature: { fullSig: string }; publicKey: string }[];
      signedBy: string[];
    }>();
  /** Each party's SIGN job, in party order. */
  const signJobs = async (): Promise<Job[]> => {
    const jobs = await Promise.all(parties.map(nextJob));
    for (const j of jobs) expect(j?.type).toBe('SIGN');
    return jobs as Job[];
  };
  const platformKey = async () =>
    createPublicKey({
      key: Buffer.concat([
        Buffer.from('302a300506032b6570032100', 'hex'),
        await p.app.services.authorizationKey.publicKey(),
      ]),
      format: 'der',
      type: 'spki',
    });
  const ed25519Signature = (content: string) =>
    sign(null, Buffer.from(content, 'hex'), derivedKey.privateKey).toString('hex');

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'tx-admin', 'ADMIN');
    viewer = await createApiUser(p, 'tx-viewer', 'VIEWER');
    const signer = await createApiUser(p, 'tx-signer', 'SIGNER');
    signerUserId = signer.id;
    const paired = await pairNewCosigner(p, admin, signer.id);
    const clouds: Party[] = await registerClouds(p);
    parties = [
      ...clouds,
      { cosignerId: paired.cosignerId, accessToken: await accessFor(paired.refreshToken) },
    ];
    // Root keys the test holds whole (the parties' MPC is not under test here).
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    derivedKey = {
      privateKey,
      publicKeyHex: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString(
        'hex',
      ),
    };
    ecdsaRoot = HDKey.fromMasterSeed(randomBytes(32));
    // KEYGEN: every party reports the same root keys.
    for (const party of parties) {
      for (;;) {
        const job = await nextJob(party);
        if (!job) break;
        const result =
          job.algorithm === 'EDDSA_ED25519'
            ? { publicKey: derivedKey.publicKeyHex, chainCode: 'cc'.repeat(32) }
            : {
                publicKey: Buffer.from(ecdsaRoot.publicKey!).toString('hex'),
                chainCode: Buffer.from(ecdsaRoot.chainCode!).toString('hex'),
              };
        const res = await report(party, job, { status: 'DONE', result });
        expect(res.statusCode, res.body).toBe(200);
      }
    }
  });
  afterAll(() => p.close());

  it('refuses what it cannot sign, with a clear error', async () => {
    const cases: [object, RegExp][] = [
      [eddsaRequest('00', { derivationPath: [44, 0x80000000, 0, 0, 0] }), /non-hardened/],
      [
        { ...eddsaRequest('00'), assetId: 'ETH' },
        /rawMessageData.algorithm does not match asset ETH/,
      ],
      [
        {
          ...eddsaRequest('00'),
          extraParameters: {
            rawMessageData: { algorithm: 'MPC_ECDSA_SECP256K1', messages: [{ content: 'abcd' }] },
          },
        },
        /32-byte digest/,
      ],
      [{ ...eddsaRequest('00'), assetId: 'DOGE_NOT_KNOWN' }, /is not configured here/],
      [{ ...eddsaRequest('00'), operation: 'TRANSFER' }, /./],
      [{ ...eddsaRequest('0g') }, /./],
    ];
    for (const [body, message] of cases) {
      const res = await create(body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json<{ message: string }>().message).toMatch(message);
    }
    const forbidden = await signedRequest(p, viewer, 'POST', '/v1/transactions', {
      body: eddsaRequest('00'),
    });
    expect(forbidden.statusCode).toBe(403);
    // Nothing was stored.
    const rows = await p.app.services.database.db.selectFrom('transactions').select('id').execute();
    expect(rows).toEqual([]);
  });

  it('signs under a platform-signed authorization; COMPLETED once the platform verified', async () => {
    const content = Buffer.from('hello countersign').toString('hex');
    const created = await create({ ...eddsaRequest(content), externalTxId: 'ext-1' });
    expect(created.statusCode, created.body).toBe(200);
    const { id, status } = created.json<{ id: string; status: string }>();
    expect(status).toBe('PENDING_SIGNATURE');
    expect((await read(id)).signedMessages).toEqual([]);

    const jobs = await signJobs();
    expect(new Set(jobs.map((j) => j.sessionId)).size).toBe(1);
    const session = await call(parties[0]!, 'GET', `/cosigner/v1/sessions/${jobs[0]!.sessionId}`);
    const published = session.json<{ signedRoster: string; signedAuthorization: string }>();
    const roster = decodeSignedRoster(Buffer.from(published.signedRoster, 'base64')).roster;
    expect(roster.purpose).toBe('SIGN');
    expect(roster.parties.map((x) => x.cosignerId)).toEqual(parties.map((x) => x.cosignerId));
    const auth = decodeSignedSigningAuthorization(
      Buffer.from(published.signedAuthorization, 'base64'),
    );
    expect(auth.authorization).toMatchObject({
      shareSetId: jobs[0]!.shareSetId,
      algorithm: 'EDDSA_ED25519',
      transactionId: id,
      messageIndex: 0,
      derivationPath: [],
      expiresAt: roster.expiresAt,
    });
    expect(Buffer.from(auth.authorization.content).toString('hex')).toBe(content);
    expect(Buffer.from(auth.authorization.sessionId).toString('hex')).toBe(jobs[0]!.sessionId);
    // Signed by the platform's authorization key (the one co-signers pin).
    expect(verify(null, auth.signedBytes, await platformKey(), auth.signature)).toBe(true);

    const result = { signature: ed25519Signature(content), publicKey: derivedKey.publicKeyHex };
    for (const [i, job] of jobs.entries()) {
      expect((await report(parties[i]!, job, { status: 'DONE', result })).statusCode).toBe(200);
      if (i < 2) expect((await read(id)).status).toBe('PENDING_SIGNATURE');
    }
    const tx = await read(id);
    expect(tx).toMatchObject({ status: 'COMPLETED', subStatus: 'COMPLETED' });
    expect(tx.signedBy).toEqual([signerUserId]);
    expect(tx.signedMessages).toEqual([
      {
        content,
        algorithm: 'MPC_EDDSA_ED25519',
        derivationPath: [],
        signature: { fullSig: result.signature },
        publicKey: derivedKey.publicKeyHex,
      },
    ]);
    const byExternal = await signedRequest(
      p,
      viewer,
      'GET',
      '/v1/transactions/external_tx_id/ext-1',
    );
    expect(byExternal.json<{ id: string }>().id).toBe(id);
    // externalTxId is unique per workspace.
    expect((await create({ ...eddsaRequest(content), externalTxId: 'ext-1' })).statusCode).toBe(
      409,
    );
  });

  it('several messages: one session each, offered to every party in the same order', async () => {
    const contents = ['0a', '0b', '0c', '0d'];
    const created = await create({
      ...eddsaRequest('00'),
      extraParameters: {
        rawMessageData: {
          algorithm: 'MPC_EDDSA_ED25519',
          messages: contents.map((content) => ({ content, derivationPath: [] })),
        },
      },
    });
    const id = created.json<{ id: string }>().id;
    const signed: string[] = [];
    for (let n = 0; n < contents.length; n++) {
      const jobs = await signJobs();
      // Each daemon runs one job at a time: the parties must all be on the same session.
      expect(new Set(jobs.map((j) => j.sessionId)).size).toBe(1);
      const published = (
        await call(parties[0]!, 'GET', `/cosigner/v1/sessions/${jobs[0]!.sessionId}`)
      ).json<{ signedAuthorization: string }>();
      const { authorization } = decodeSignedSigningAuthorization(
        Buffer.from(published.signedAuthorization, 'base64'),
      );
      const content = Buffer.from(authorization.content).toString('hex');
      expect(content).toBe(contents[authorization.messageIndex]);
      signed.push(content);
      const result = { signature: ed25519Signature(content), publicKey: derivedKey.publicKeyHex };
      for (const [i, job] of jobs.entries())
        await report(parties[i]!, job, { status: 'DONE', result });
      if (n < contents.length - 1) expect((await read(id)).status).toBe('PENDING_SIGNATURE');
    }
    expect(signed.sort()).toEqual(contents);
    const tx = await read(id);
    expect(tx.status).toBe('COMPLETED');
    expect(tx.signedMessages.map((m) => m.content)).toEqual(contents);
    // The messages are answered in index order however they are stored (hot-path statements
    // review T1): rewritten last index first, the rows lie in storage in reverse, and PGlite (one
    // connection, so the setting reaches the read) is kept off the primary key's index, whose
    // order would hide a read that took them as stored.
    const { db } = p.app.services.database;
    for (let index = contents.length - 1; index >= 0; index--)
      await db
        .updateTable('transaction_messages')
        .set((eb) => ({ status: eb.ref('status') }))
        .where('transaction_id', '=', id)
        .where('message_index', '=', index)
        .execute();
    // The read is a prepared statement run many times before: its cached generic plan, made
    // with the index, would outlive the scan settings (review of 40c7b0c, F1).
    const scanAsStored =
      process.env['DATABASE_URL'] === undefined
        ? {
            enable_indexscan: 'off',
            enable_bitmapscan: 'off',
            plan_cache_mode: 'force_custom_plan',
          }
        : {};
    for (const [name, value] of Object.entries(scanAsStored))
      await sql`set ${sql.raw(name)} = ${sql.raw(value)}`.execute(db);
    try {
      expect((await read(id)).signedMessages.map((m) => m.content)).toEqual(contents);
    } finally {
      for (const name of Object.keys(scanAsStored)) await sql`reset ${sql.raw(name)}`.execute(db);
    }
  });

  it('the last two reports at once still end the session (PostgreSQL: each must see the other)', async () => {
    // On PostgreSQL each report is a transaction of its own: one that saw the other's job still
    // LEASED ended nothing, and the signing waited for the session to expire.
    for (const content of ['1a', '1b', '1c', '1d', '1e']) {
      const id = (await create(eddsaRequest(content))).json<{ id: string }>().id;
      const jobs = await signJobs();
      const result = { signature: ed25519Signature(content), publicKey: derivedKey.publicKeyHex };
      await report(parties[0]!, jobs[0]!, { status: 'DONE', result });
      const last = await Promise.all(
        [1, 2].map((i) => report(parties[i]!, jobs[i]!, { status: 'DONE', result })),
      );
      expect(last.map((r) => r.statusCode)).toEqual([200, 200]);
      expect((await read(id)).status).toBe('COMPLETED');
    }
  });

  it('ECDSA: {r, s, v} once the signature verifies and v recovers the reported key', async () => {
    // The key at the default path, derived from the root's private key by @scure/bip32.
    const child = ecdsaRoot.derive('m/44/60/2/0/0');
    const secret = child.privateKey!;
    const publicKey = Buffer.from(child.publicKey!).toString('hex');
    const ecdsaRequest = (digest: string) => ({
      operation: 'RAW',
      assetId: 'ETH',
      source: { type: 'VAULT_ACCOUNT', id: '2' },
      extraParameters: { rawMessageData: { messages: [{ content: digest }] } },
    });
    const signDigest = (digest: string) => {
      const recovered = secp256k1.sign(Buffer.from(digest, 'hex'), secret, {
        prehash: false,
        format: 'recovered',
      });
      return { signature: Buffer.from(recovered.slice(1)).toString('hex'), v: recovered[0]! };
    };
    for (const wrongV of [false, true]) {
      const digest = randomBytes(32).toString('hex');
      const created = await create(ecdsaRequest(digest));
      expect(created.statusCode, created.body).toBe(200);
      const jobs = await signJobs();
      expect(jobs[0]!.algorithm).toBe('ECDSA_SECP256K1');
      const { signature, v } = signDigest(digest);
      const result = { signature, publicKey, recoveryId: wrongV ? 1 - v : v };
      for (const [i, job] of jobs.entries())
        expect((await report(parties[i]!, job, { status: 'DONE', result })).statusCode).toBe(200);
      const tx = await read(created.json<{ id: string }>().id);
      if (wrongV) {
        expect(tx).toMatchObject({ status: 'FAILED', subStatus: 'INVALID_SIGNATURE' });
        continue;
      }
      expect(tx.status).toBe('COMPLETED');
      expect(tx.signedMessages).toEqual([
        {
          content: digest,
          algorithm: 'MPC_ECDSA_SECP256K1',
          derivationPath: [44, 60, 2, 0, 0],
          signature: { r: signature.slice(0, 64), s: signature.slice(64), v, fullSig: signature },
          publicKey,
        },
      ]);
    }
  });

  it('Idempotency-Key: same body → same transaction; another body → 409', async () => {
    const headers = { 'Idempotency-Key': 'idem-1' };
    const first = await create(eddsaRequest('aa'), headers);
    const second = await create(eddsaRequest('aa'), headers);
    expect(first.statusCode).toBe(200);
    expect(second.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    const other = await create(eddsaRequest('bb'), headers);
    expect(other.statusCode).toBe(409);
    // One SIGN session only, and it still runs (finish it off: a bad signature fails it).
    const jobs = await signJobs();
    for (const [i, job] of jobs.entries())
      await report(parties[i]!, job, {
        status: 'DONE',
        result: { signature: ed25519Signature('ab'), publicKey: derivedKey.publicKeyHex },
      });
    const tx = await read(first.json<{ id: string }>().id);
    expect(tx).toMatchObject({ status: 'FAILED', subStatus: 'INVALID_SIGNATURE' });
    expect(tx.signedMessages).toEqual([]);
    expect(await nextJob(parties[0]!)).toBeUndefined();
  });

  const anomalies = (transactionId: string) =>
    p.app.services.database.db
      .selectFrom('audit_log')
      .select(['details'])
      .where('action', '=', 'transaction.signing_anomaly')
      .where('subject', '=', transactionId)
      .execute();

  it('a party that disagrees does not discard a verifying signature: COMPLETED, the disagreement audited (review M1)', async () => {
    const created = await create(eddsaRequest('cc'));
    const id = created.json<{ id: string }>().id;
    const jobs = await signJobs();
    const good = { signature: ed25519Signature('cc'), publicKey: derivedKey.publicKeyHex };
    const refused = await report(parties[0]!, jobs[0]!, {
      status: 'DONE',
      result: { publicKey: derivedKey.publicKeyHex },
    });
    expect(refused.statusCode).toBe(400);
    for (const [i, job] of jobs.entries()) {
      const result = i === 1 ? { ...good, publicKey: '44'.repeat(32) } : good;
      await report(parties[i]!, job, { status: 'DONE', result });
    }
    const tx = await read(id);
    expect(tx).toMatchObject({ status: 'COMPLETED', subStatus: 'COMPLETED' });
    expect(tx.signedMessages[0]!.signature.fullSig).toBe(good.signature);
    expect(await anomalies(id)).toHaveLength(1);
  });

  it('two parties DONE with a verifying signature, the third FAILED after them: COMPLETED, no fresh session (review M1)', async () => {
    const created = await create(eddsaRequest('c2'));
    const id = created.json<{ id: string }>().id;
    const jobs = await signJobs();
    const good = { signature: ed25519Signature('c2'), publicKey: derivedKey.publicKeyHex };
    await report(parties[0]!, jobs[0]!, { status: 'DONE', result: good });
    await report(parties[1]!, jobs[1]!, { status: 'DONE', result: good });
    // The API co-signer crashed after SHARE_SENT; its re-offered job refuses.
    const res = await report(parties[2]!, jobs[2]!, {
      status: 'FAILED',
      reason: 'an interrupted signing session cannot resume',
      subStatus: 'SIGNATURE_MAY_EXIST',
    });
    expect(res.statusCode).toBe(200);
    expect(await read(id)).toMatchObject({ status: 'COMPLETED', subStatus: 'COMPLETED' });
    expect(await anomalies(id)).toEqual([
      { details: expect.objectContaining({ sessionStatus: 'FAILED' }) },
    ]);
    for (const party of parties) expect(await nextJob(party)).toBeUndefined();
  });

  it('a party that already released its share, with no verifying result: FAILED/SIGNATURE_MAY_EXIST at once (review M1)', async () => {
    const created = await create(eddsaRequest('c3'));
    const id = created.json<{ id: string }>().id;
    const jobs = await signJobs();
    // From a cloud co-signer too: a released share is a fact about any party.
    const res = await report(parties[0]!, jobs[0]!, {
      status: 'FAILED',
      reason: 'a signature share for this message was already released',
      subStatus: 'SIGNATURE_MAY_EXIST',
    });
    expect(res.statusCode).toBe(200);
    expect(await read(id)).toMatchObject({ status: 'FAILED', subStatus: 'SIGNATURE_MAY_EXIST' });
    // Not retried: every fresh session would be refused the same way.
    for (const party of parties) expect(await nextJob(party)).toBeUndefined();
  });

  it('a valid signature under another key than the one the platform derives is refused', async () => {
    const created = await create(eddsaRequest('c1'));
    const jobs = await signJobs();
    const other = generateKeyPairSync('ed25519');
    const result = {
      signature: sign(null, Buffer.from('c1', 'hex'), other.privateKey).toString('hex'),
      publicKey: Buffer.from(other.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString(
        'hex',
      ),
    };
    for (const [i, job] of jobs.entries())
      await report(parties[i]!, job, { status: 'DONE', result });
    expect(await read(created.json<{ id: string }>().id)).toMatchObject({
      status: 'FAILED',
      subStatus: 'INVALID_SIGNATURE',
    });
  });

  it('a failed session is replaced by a fresh one (new sid), up to 3 attempts, then FAILED', async () => {
    const created = await create(eddsaRequest('dd'));
    const id = created.json<{ id: string }>().id;
    const sids: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const jobs = await signJobs();
      sids.push(jobs[0]!.sessionId);
      const res = await report(parties[2]!, jobs[2]!, {
        status: 'FAILED',
        reason: 'ERR_COSIGNER_CONFLICT: a signature share for this message was already released',
      });
      expect(res.statusCode).toBe(200);
      // The other parties' jobs of that session are over.
      expect(
        (await report(parties[0]!, jobs[0]!, { status: 'FAILED', reason: 'x' })).statusCode,
      ).toBe(409);
      if (attempt < 3) expect((await read(id)).status).toBe('PENDING_SIGNATURE');
    }
    expect(new Set(sids).size).toBe(3);
    expect(await read(id)).toMatchObject({ status: 'FAILED', subStatus: 'SIGNING_ERROR' });
    expect(await nextJob(parties[0]!)).toBeUndefined();
  });

  it("the signer's Callback Handler refused: REJECTED with the reason at once, no fresh session", async () => {
    const created = await create(eddsaRequest('de'));
    const id = created.json<{ id: string }>().id;
    const jobs = await signJobs();
    // Not a callback sub-status: refused by the schema.
    const bad = await report(parties[2]!, jobs[2]!, {
      status: 'FAILED',
      reason: 'x',
      subStatus: 'COMPLETED',
    });
    expect(bad.statusCode).toBe(400);
    const res = await report(parties[2]!, jobs[2]!, {
      status: 'FAILED',
      reason: 'destination not on the allowlist',
      subStatus: 'REJECTED_BY_CALLBACK',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await read(id)).toMatchObject({
      status: 'REJECTED',
      subStatus: 'REJECTED_BY_CALLBACK',
      subStatusDetail: 'destination not on the allowlist',
      signedMessages: [],
    });
    expect(await nextJob(parties[0]!)).toBeUndefined();
  });

  it('a callback sub-status counts only from the API co-signer; a busy handler is retried', async () => {
    const created = await create(eddsaRequest('df'));
    const id = created.json<{ id: string }>().id;
    // A cloud co-signer has no handler: its sub-status is ignored, the session is retried.
    let jobs = await signJobs();
    await report(parties[0]!, jobs[0]!, {
      status: 'FAILED',
      reason: 'x',
      subStatus: 'REJECTED_BY_CALLBACK',
    });
    expect(await read(id)).toMatchObject({ status: 'PENDING_SIGNATURE' });
    // CALLBACK_HANDLER_BUSY may pass: a fresh session; the last attempt ends with the sub-status.
    for (let attempt = 2; attempt <= 3; attempt++) {
      jobs = await signJobs();
      await report(parties[2]!, jobs[2]!, {
        status: 'FAILED',
        reason: 'too many requests in progress for this handler',
        subStatus: 'CALLBACK_HANDLER_BUSY',
      });
    }
    expect(await read(id)).toMatchObject({
      status: 'FAILED',
      subStatus: 'CALLBACK_HANDLER_BUSY',
      subStatusDetail: 'too many requests in progress for this handler',
    });
  });

  it('signs the authorization inside the transaction before the key was ever loaded (PGlite: one connection)', async () => {
    // A fresh set of services over the same database: its authorization key is not loaded yet.
    const fresh = createServices(p.app.services.database, { clockSkewSeconds: 0 });
    const principal = {
      kind: 'api_user' as const,
      id: admin.id,
      workspaceId: p.workspaceId,
      role: 'ADMIN' as const,
      name: 'tx-admin',
    };
    const created = await fresh.transactions.create(
      principal,
      // No path: the default one, from the vault account.
      eddsaRequest('ff', { derivationPath: undefined }) as CreateTransactionRequest,
      undefined,
    );
    expect(created.status).toBe('PENDING_SIGNATURE');
    const jobs = await signJobs();
    const published = (
      await call(parties[0]!, 'GET', `/cosigner/v1/sessions/${jobs[0]!.sessionId}`)
    ).json<{ signedAuthorization: string }>();
    const auth = decodeSignedSigningAuthorization(
      Buffer.from(published.signedAuthorization, 'base64'),
    );
    expect(auth.authorization.transactionId).toBe(created.id);
    expect(auth.authorization.derivationPath).toEqual([44, 0, 7, 0, 0]);
    expect(verify(null, auth.signedBytes, await platformKey(), auth.signature)).toBe(true);
    for (const [i, job] of jobs.entries())
      await report(parties[i]!, job, { status: 'FAILED', reason: 'test over' });
  });

  it('without a root key for the algorithm the transaction fails at once (SIGNER_NOT_FOUND)', async () => {
    await p.app.services.database.db
      .deleteFrom('root_keys')
      .where('workspace_id', '=', p.workspaceId)
      .where('algorithm', '=', 'EDDSA_ED25519')
      .execute();
    const created = await create(eddsaRequest('ee'));
    expect(created.json<{ status: string }>().status).toBe('FAILED');
    expect(await read(created.json<{ id: string }>().id)).toMatchObject({
      status: 'FAILED',
      subStatus: 'SIGNER_NOT_FOUND',
    });
  });
});
