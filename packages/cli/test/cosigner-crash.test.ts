/**
 * Kill -9 of the API co-signer at every durable step of a signing, and inside the one store
 * transaction of a pooled EdDSA signing (issue: "after restart the job
 * either completes or fails cleanly, no presignature is used twice, no transaction is signed
 * twice"). The API co-signer is a real `cosigner start` process that sends itself SIGKILL at a
 * named crash point (src/daemon/crash-points.ts); it is then started again, as an operator or a
 * supervisor would, and the transaction must reach an end the point allows:
 *
 * - before any share of its exists (claimed; ECDSA presigned, pooled presignature taken, or
 *   spent): the restarted daemon hands back the dead one's lease, refuses the interrupted session
 *   (its nonces died), and a fresh session signs — or, where a cloud co-signer had already
 *   released its share in the dead session, the transaction FAILS (SIGNATURE_MAY_EXIST) with no
 *   signature. With a pooled presignature nobody releases a share before every party has taken
 *   its copy and computed its share, so a death up to then always ends COMPLETED;
 * - SHARE_SENT recorded (the share may have left): never signed again — FAILED, no signature;
 * - SIGNED recorded (the report was lost): the re-offered session answers from the store —
 *   COMPLETED with that one signature.
 *
 * The platform and the two cloud co-signers run in this process (their state is read directly),
 * with the production lease (60 s): each case ends in seconds only because a starting daemon
 * hands its predecessor's leases back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  openLocalKms,
  openStore,
  pairApiKey,
  runDaemon,
  type CosignerStore,
} from '@countersign/cosigner';
import { buildApp, defaultConfig, openDatabase, type Principal } from '@countersign/platform';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COSIGNER_BIN, freshCsrPem, lowCostKeyFile, newCosignerStore } from './helpers.js';

const PASSPHRASE = 'crash test passphrase';
type Algorithm = 'EDDSA_ED25519' | 'ECDSA_SECP256K1';
type End = 'COMPLETED' | 'FAILED' | 'EITHER';
/**
 * Whether the signing spends a pooled entry (ECDSA: a presignature; EdDSA: a FROST nonce set) or
 * makes its own in the session (ECDSA presigns inline; EdDSA runs both FROST rounds: 'none').
 */
type Presign = 'pooled' | 'inline' | 'none';

const CASES: {
  point: string;
  algorithm: Algorithm;
  presign: Presign;
  end: End;
  /** The re-offered job finishes the session it died in (a pooled EdDSA signing's state is durable). */
  resumes?: true;
}[] = [
  { point: 'sign:claimed', algorithm: 'EDDSA_ED25519', presign: 'none', end: 'COMPLETED' },
  { point: 'sign:share-sent', algorithm: 'EDDSA_ED25519', presign: 'none', end: 'FAILED' },
  { point: 'sign:signed', algorithm: 'EDDSA_ED25519', presign: 'none', end: 'COMPLETED' },
  // Claimed for the session, the platform not told: the re-offered job resumes the claim.
  {
    point: 'sign:pool-claimed',
    algorithm: 'EDDSA_ED25519',
    presign: 'pooled',
    end: 'COMPLETED',
    resumes: true,
  },
  // The clouds were told to go ahead and may have released their shares; the set is still here,
  // so the re-offered job signs the same session (without asking its handler again).
  {
    point: 'sign:pool-ready',
    algorithm: 'EDDSA_ED25519',
    presign: 'pooled',
    end: 'COMPLETED',
    resumes: true,
  },
  // Dead inside that transaction (the set taken, the share computed, nothing committed): the
  // claim and the set are as they were, and the re-offered job signs the same session.
  {
    point: 'sign:pool-computing',
    algorithm: 'EDDSA_ED25519',
    presign: 'pooled',
    end: 'COMPLETED',
    resumes: true,
  },
  // Claim, spend, share and SIGNED record are one transaction: the re-offered job answers from it.
  {
    point: 'sign:pool-signed',
    algorithm: 'EDDSA_ED25519',
    presign: 'pooled',
    end: 'COMPLETED',
    resumes: true,
  },
  { point: 'sign:claimed', algorithm: 'ECDSA_SECP256K1', presign: 'inline', end: 'COMPLETED' },
  // The clouds may or may not have released their shares when the API co-signer dies here.
  { point: 'sign:presigned', algorithm: 'ECDSA_SECP256K1', presign: 'inline', end: 'EITHER' },
  { point: 'sign:spent', algorithm: 'ECDSA_SECP256K1', presign: 'inline', end: 'EITHER' },
  { point: 'sign:share-sent', algorithm: 'ECDSA_SECP256K1', presign: 'inline', end: 'FAILED' },
  { point: 'sign:signed', algorithm: 'ECDSA_SECP256K1', presign: 'inline', end: 'COMPLETED' },
  { point: 'sign:claimed', algorithm: 'ECDSA_SECP256K1', presign: 'pooled', end: 'COMPLETED' },
  { point: 'sign:pool-taken', algorithm: 'ECDSA_SECP256K1', presign: 'pooled', end: 'COMPLETED' },
  { point: 'sign:spent', algorithm: 'ECDSA_SECP256K1', presign: 'pooled', end: 'COMPLETED' },
  { point: 'sign:share-sent', algorithm: 'ECDSA_SECP256K1', presign: 'pooled', end: 'FAILED' },
  { point: 'sign:signed', algorithm: 'ECDSA_SECP256K1', presign: 'pooled', end: 'COMPLETED' },
];

/** Runs `cosigner …` without blocking this process (the platform answers from here). */
function cosigner(
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
): {
  child: ChildProcess;
  /** Stdout and stderr as they came. */
  output: () => string;
  /** Stdout alone (what `--json` writes; warnings go to stderr). */
  stdout: () => string;
  done: Promise<{ code: number | null; signal: string | null }>;
} {
  const child = spawn(process.execPath, [COSIGNER_BIN, ...args], {
    cwd,
    env: { ...process.env, COSIGNER_PASSPHRASE: PASSPHRASE, ...extraEnv },
  });
  let out = '';
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, stdout: () => stdout, done };
}

async function succeeded(run: ReturnType<typeof cosigner>, what: string): Promise<string> {
  const { code } = await run.done;
  if (code !== 0) throw new Error(`${what} exited ${String(code)}:\n${run.output()}`);
  return run.output();
}

describe.sequential('kill -9 of the API co-signer during a signing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-crash-'));
  const stop = new AbortController();
  const stores: CosignerStore[] = [];
  const daemons: Promise<void>[] = [];
  const logs: string[] = [];
  let app: FastifyInstance;
  let principal: Principal;
  let apiDaemon: ReturnType<typeof cosigner> | undefined;

  const apiHome = join(dir, 'api');
  const startApi = (crashAt?: string) =>
    (apiDaemon = cosigner(
      ['start', '--home', apiHome],
      dir,
      crashAt === undefined ? {} : { COUNTERSIGN_CRASH_AT: crashAt },
    ));
  const allLogs = () => `${logs.join('\n')}\n--- api co-signer:\n${apiDaemon?.output() ?? ''}`;

  const waitFor = async (what: () => Promise<boolean>, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error(`timed out; logs:\n${allLogs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  afterAll(async () => {
    stop.abort();
    if (apiDaemon !== undefined && apiDaemon.child.exitCode === null) {
      apiDaemon.child.kill('SIGTERM');
      await apiDaemon.done;
    }
    await Promise.allSettled(daemons);
    for (const s of stores) s.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    app = await buildApp({
      config: { ...defaultConfig, logLevel: 'silent', database: {} },
      database,
      relay: { recheckMs: 200, sessionTtlMs: 180_000 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const { services } = app;
    const ws = await services.workspaces.create({ name: 'Crash', ownerEmail: 'o@crash.test' });
    for (const slot of [1, 2] as const) {
      const name = `cloud-${slot}`;
      const store = await newCosignerStore(join(dir, name), PASSPHRASE);
      stores.push(store);
      const { token } = await services.cloudCosigners.issueToken(slot);
      await pairApiKey(store, { pairingToken: token, platformUrl: url, name });
      daemons.push(
        runDaemon({
          store,
          mode: 'cloud',
          signal: stop.signal,
          log: {
            info: (m, f) =>
              logs.push(`${new Date().toISOString()} ${name} ${m} ${JSON.stringify(f ?? {})}`),
            warn: (m, f) =>
              logs.push(`${new Date().toISOString()} ${name} WARN ${m} ${JSON.stringify(f ?? {})}`),
          },
        }),
      );
    }
    const signer = await services.apiUsers.create(ws.owner, {
      name: 'signer',
      role: 'SIGNER',
      csrPem: freshCsrPem(dir, 'signer'),
    });
    principal = {
      kind: 'api_user',
      id: signer.user.id,
      workspaceId: ws.workspaceId,
      role: 'SIGNER',
      name: 'signer',
    };
    const { pairingToken } = await services.pairing.issuePairingToken(ws.owner, signer.user.id);
    // The API co-signer as its operator sets it up: `cosigner setup`, the Owner approves, `pair`.
    await lowCostKeyFile(apiHome, PASSPHRASE);
    const setup = cosigner(
      [
        'setup',
        '--home',
        apiHome,
        '--kms',
        'local',
        '--name',
        'api',
        '--pairing-token',
        pairingToken,
        '--platform-url',
        url,
        '--no-wait',
        '--json',
      ],
      dir,
    );
    await succeeded(setup, 'cosigner setup');
    const { requestId } = (JSON.parse(setup.stdout()) as { pairing: { requestId: string } })
      .pairing;
    await services.approvals.decide(ws.owner, requestId, 'APPROVE');
    await succeeded(cosigner(['pair', '--home', apiHome, '--timeout', '60'], dir), 'cosigner pair');
    startApi();
    await waitFor(async () => {
      const keys = await services.database.db
        .selectFrom('root_keys')
        .select('algorithm')
        .where('workspace_id', '=', ws.workspaceId)
        .execute();
      return keys.length === 2;
    }, 240_000);
  }, 400_000);

  const sessionsOf = async (algorithm: Algorithm) =>
    app.services.database.db
      .selectFrom('mpc_sessions')
      .select(['id', 'status'])
      .where('purpose', '=', 'SIGN')
      .where('algorithm', '=', algorithm)
      .where('workspace_id', '=', principal.workspaceId)
      .execute();

  /**
   * Makes the next signing of `algorithm` spend a pooled entry (waits for a READY one; the API
   * co-signer must be running to make it) or make its own in the session (drops every pool: the
   * entries ready or in the making are never named).
   */
  /** A top-up of the workspace's `algorithm` pool, as the next signing would start one. */
  const topUp = (algorithm: Algorithm) =>
    app.services.database.db
      .transaction()
      .execute((trx) =>
        app.services.presignatures.topUpWorkspace(trx, principal.workspaceId, algorithm),
      );
  /** The workspace's `algorithm` pool entries in one of `statuses`, by status. */
  const poolEntries = (algorithm: Algorithm, statuses: ('MAKING' | 'READY')[]) =>
    app.services.database.db
      .selectFrom('presignatures as p')
      .innerJoin('share_sets as s', 's.id', 'p.share_set_id')
      .select('p.status')
      .where('p.workspace_id', '=', principal.workspaceId)
      .where('s.algorithm', '=', algorithm)
      .where('p.status', 'in', statuses)
      .execute();

  const poolFor = async (presign: Presign, algorithm: Algorithm): Promise<void> => {
    const { db } = app.services.database;
    // A failed pooled session drops the pool: a top-up makes it again.
    if (presign === 'pooled')
      await waitFor(async () => {
        const live = await poolEntries(algorithm, ['MAKING', 'READY']);
        if (live.some((p) => p.status === 'READY')) return true;
        if (live.length === 0) await topUp(algorithm);
        return false;
      }, 120_000);
    else
      await db
        .updateTable('presignatures')
        .set({ status: 'DISCARDED' })
        .where('workspace_id', '=', principal.workspaceId)
        .where('status', 'in', ['MAKING', 'READY'])
        .execute();
  };

  /** How many of `sessionIds` named a pooled presignature. */
  const pooledAmong = async (sessionIds: string[]): Promise<number> => {
    if (sessionIds.length === 0) return 0;
    const named = await app.services.database.db
      .selectFrom('presignatures')
      .select('session_id')
      .where('taken_by_session_id', 'in', sessionIds)
      .execute();
    return named.length;
  };

  it.each(CASES)(
    'dies at $point ($algorithm, $presign): after a restart it ends $end, signed at most once',
    async ({ point, algorithm, presign, end, resumes }) => {
      const { services } = app;
      await poolFor(presign, algorithm);
      // A clean daemon stops with SIGTERM (exit 0); the next one dies at the point.
      if (apiDaemon !== undefined && apiDaemon.child.exitCode === null) {
        apiDaemon.child.kill('SIGTERM');
        expect((await apiDaemon.done).code).toBe(0);
      }
      const before = new Set((await sessionsOf(algorithm)).map((s) => s.id));
      const dying = startApi(point);
      const content = Buffer.from(
        secp256k1.utils.randomSecretKey().slice(0, algorithm === 'ECDSA_SECP256K1' ? 32 : 24),
      ).toString('hex');
      const { id } = await services.transactions.create(
        principal,
        {
          operation: 'RAW',
          source: { type: 'VAULT_ACCOUNT', id: '0' },
          extraParameters: {
            rawMessageData: {
              algorithm:
                algorithm === 'ECDSA_SECP256K1' ? 'MPC_ECDSA_SECP256K1' : 'MPC_EDDSA_ED25519',
              messages: [{ content }],
            },
          },
        },
        undefined,
      );
      // It really died there, by SIGKILL — not an error path that cleaned up.
      const died = await Promise.race([
        dying.done,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`did not reach ${point}:\n${allLogs()}`)), 120_000),
        ),
      ]);
      expect(died).toEqual({ code: null, signal: 'SIGKILL' });

      startApi();
      let tx = await services.transactions.get(principal.workspaceId, id);
      await waitFor(async () => {
        tx = await services.transactions.get(principal.workspaceId, id);
        return tx.status === 'COMPLETED' || tx.status === 'FAILED';
      }, 240_000);
      if (end !== 'EITHER') expect(tx.status, allLogs()).toBe(end);

      const sessions = (await sessionsOf(algorithm)).filter((s) => !before.has(s.id));
      const done = sessions.filter((s) => s.status === 'DONE');
      if (tx.status === 'COMPLETED') {
        // One session signed; its one signature verifies under the key the platform reports.
        expect(done).toHaveLength(1);
        expect(tx.signedMessages).toHaveLength(1);
        const signed = tx.signedMessages[0]!;
        const publicKey = Buffer.from(signed.publicKey, 'hex');
        const signature = Buffer.from(signed.signature.fullSig, 'hex');
        const message = Buffer.from(content, 'hex');
        expect(
          algorithm === 'ECDSA_SECP256K1'
            ? secp256k1.verify(signature, message, publicKey, { prehash: false })
            : ed25519.verify(signature, message, publicKey),
        ).toBe(true);
      } else {
        // Failed cleanly: no session finished, nothing signed, a sub-status says why.
        expect(done).toEqual([]);
        expect(tx.signedMessages ?? []).toEqual([]);
        expect(tx.subStatus).toBeTruthy();
      }
      // Every later session was a fresh one, never the dead session run twice — or, where the
      // party's state is durable, the one session it died in, finished.
      expect(new Set(sessions.map((s) => s.id)).size).toBe(sessions.length);
      if (resumes) expect(sessions, allLogs()).toHaveLength(1);
      // The case ran the path it names: only a first session takes from the pool.
      expect(await pooledAmong(sessions.map((s) => s.id))).toBe(presign === 'pooled' ? 1 : 0);
    },
    400_000,
  );

  it('dies with a presignature pooled but not reported (PRESIGN): restarted, it reports it', async () => {
    const { db } = app.services.database;
    await poolFor('inline', 'ECDSA_SECP256K1'); // nothing pooled or in the making
    apiDaemon!.child.kill('SIGTERM');
    expect((await apiDaemon!.done).code).toBe(0);
    const dying = startApi('presign:pooled');
    // PRESIGN sessions for it once the daemon polls again (its clean stop made it unavailable):
    // started by this top-up, or by one a PRESIGN session's end or an earlier signing started
    // meanwhile (with two in the making, this one starts none).
    await waitFor(async () => {
      await topUp('ECDSA_SECP256K1');
      return (await poolEntries('ECDSA_SECP256K1', ['MAKING'])).length > 0;
    }, 60_000);
    expect(await dying.done).toEqual({ code: null, signal: 'SIGKILL' });
    startApi();
    // The re-offered job answers from the store (attempt 2) instead of failing on its claimed
    // sid; every party's copy is READY to be named.
    const reported = /"message":"job done".*"type":"PRESIGN".*"attempt":2,"presignatureId"/;
    await waitFor(async () => {
      if (!reported.test(apiDaemon!.output())) return false;
      const ready = await db
        .selectFrom('presignatures')
        .select('session_id')
        .where('workspace_id', '=', principal.workspaceId)
        .where('status', '=', 'READY')
        .execute();
      return ready.length > 0;
    }, 120_000);
  }, 300_000);

  /** The API co-signer's store, opened here while its daemon is stopped. */
  const openApiStore = async (): Promise<CosignerStore> => {
    const kms = await openLocalKms({
      keyFile: join(apiHome, 'local-kms.key'),
      passphrase: PASSPHRASE,
    });
    return openStore({ dir: join(apiHome, 'store'), kms });
  };

  /** Signs one RAW message of `algorithm` through the platform; the transaction once it ends. */
  const signToTheEnd = async (algorithm: Algorithm, content: string) => {
    const { services } = app;
    const { id } = await services.transactions.create(
      principal,
      {
        operation: 'RAW',
        source: { type: 'VAULT_ACCOUNT', id: '0' },
        extraParameters: {
          rawMessageData: {
            algorithm:
              algorithm === 'ECDSA_SECP256K1' ? 'MPC_ECDSA_SECP256K1' : 'MPC_EDDSA_ED25519',
            messages: [{ content }],
          },
        },
      },
      undefined,
    );
    let tx = await services.transactions.get(principal.workspaceId, id);
    await waitFor(async () => {
      tx = await services.transactions.get(principal.workspaceId, id);
      return tx.status === 'COMPLETED' || tx.status === 'FAILED';
    }, 240_000);
    return { id, tx };
  };

  it('a co-signer that lost its pool fails the pooled session before any share leaves; a fresh one signs', async () => {
    await poolFor('pooled', 'ECDSA_SECP256K1');
    apiDaemon!.child.kill('SIGTERM');
    expect((await apiDaemon!.done).code).toBe(0);
    // What a restored backup does to the pool (restore-store.ts); the platform cannot know.
    const store = await openApiStore();
    expect(store.presignatures.discardAvailablePresignatures()).toBeGreaterThan(0);
    store.close();
    const before = new Set((await sessionsOf('ECDSA_SECP256K1')).map((s) => s.id));
    startApi();
    const { id, tx } = await signToTheEnd(
      'ECDSA_SECP256K1',
      Buffer.from(secp256k1.utils.randomSecretKey()).toString('hex'),
    );
    // Not FAILED/SIGNATURE_MAY_EXIST: the clouds held their shares until every party had taken
    // its presignature, so the inline session that followed was not refused.
    expect(tx.status, allLogs()).toBe('COMPLETED');
    const sessions = (await sessionsOf('ECDSA_SECP256K1')).filter((s) => !before.has(s.id));
    expect(sessions.map((s) => s.status).sort()).toEqual(['DONE', 'FAILED']);
    expect(await pooledAmong(sessions.map((s) => s.id))).toBe(1);
    for (const cloud of stores) expect(cloud.signingRecords.state(id, 0)).toBe('SIGNED');
  }, 400_000);

  it('a co-signer restored from a backup tells the platform its pool is gone before it polls', async () => {
    const { services } = app;
    const { db } = services.database;
    await poolFor('pooled', 'EDDSA_ED25519');
    const apiCosignerId = (
      await db
        .selectFrom('share_sets')
        .select('cosigner_id')
        .where('api_user_id', '=', principal.id)
        .executeTakeFirstOrThrow()
    ).cosigner_id;
    /** Entries made with the API co-signer still to be named, and their sessions. */
    const liveWithApi = () =>
      db
        .selectFrom('presignatures as x')
        .innerJoin('mpc_session_parties as p', 'p.session_id', 'x.session_id')
        .select('x.session_id')
        .where('p.cosigner_id', '=', apiCosignerId)
        .where('x.status', 'in', ['READY', 'MAKING'])
        .execute();
    apiDaemon!.child.kill('SIGTERM');
    expect((await apiDaemon!.done).code).toBe(0);
    expect((await liveWithApi()).length).toBeGreaterThan(0);
    // The machine is lost; its backup is restored on another (here: the same path, anew).
    const backup = join(dir, 'api.backup');
    await succeeded(cosigner(['backup', backup, '--home', apiHome], dir), 'cosigner backup');
    const lost = `${apiHome}.lost`;
    renameSync(apiHome, lost);
    await succeeded(
      cosigner(
        [
          'restore',
          backup,
          '--home',
          apiHome,
          '--kms',
          'local',
          '--key-file',
          join(lost, 'local-kms.key'),
        ],
        dir,
      ),
      'cosigner restore',
    );
    copyFileSync(join(lost, 'local-kms.key'), join(apiHome, 'local-kms.key'));
    startApi();
    await waitFor(
      () => Promise.resolve(/told the platform this store holds no pool/.test(apiDaemon!.output())),
      60_000,
    );
    // Nothing made with it before is named now (the pool refills with it, afresh).
    const discarded = await db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'mpc.presignatures_discarded')
      .where('workspace_id', '=', principal.workspaceId)
      .execute();
    expect(discarded.map((d) => (d.details as { reason?: string }).reason)).toContain('POOL_LOST');
    const { tx } = await signToTheEnd(
      'EDDSA_ED25519',
      Buffer.from('after the restore').toString('hex'),
    );
    expect(tx.status, allLogs()).toBe('COMPLETED');
    // A second start does not tell it again.
    apiDaemon!.child.kill('SIGTERM');
    expect((await apiDaemon!.done).code).toBe(0);
    startApi();
    await waitFor(() => Promise.resolve(/polling for work/.test(apiDaemon!.output())), 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(apiDaemon!.output()).not.toMatch(/holds no pool/);
  }, 400_000);

  it('the API co-signer’s store agrees: one signing record per message, none half-done', async () => {
    apiDaemon!.child.kill('SIGTERM');
    expect((await apiDaemon!.done).code).toBe(0);
    const store = await openApiStore();
    stores.push(store);
    const txs = await app.services.database.db
      .selectFrom('transactions')
      .select(['id', 'status'])
      .where('workspace_id', '=', principal.workspaceId)
      .execute();
    expect(txs).toHaveLength(CASES.length + 2);
    for (const tx of txs) {
      const state = store.signingRecords.state(tx.id, 0);
      // COMPLETED: this party signed it. FAILED: it either never released a share (STARTED) or
      // released one that no session combined (SHARE_SENT) — never SIGNED without the platform
      // knowing.
      if (tx.status === 'COMPLETED') expect(state).toBe('SIGNED');
      else expect(['STARTED', 'SHARE_SENT', undefined]).toContain(state);
    }
  }, 60_000);
});
