/**
 * The relay carries bytes it cannot read or forge (ARCHITECTURE §5), proven with the real
 * platform and the co-signer's real channel: parties verify the platform-signed roster against
 * the pinned key, seal their messages, and a platform that alters a relayed payload or a roster
 * in its database gets refused by the receiving party, which then aborts the session.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isChannelError,
  PartyIdentity,
  SecureChannel,
  signRoster,
  decodeSignedRoster,
  verifyRoster,
} from '@countersign/cosigner';
import { buildApp, openDatabase, type Principal } from '@countersign/platform';
import { pairingProofMessage } from '@countersign/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROTOCOL = 'frost-ed25519/dkg/v1';

interface Party {
  identity: PartyIdentity;
  cosignerId: string;
  accessToken: string;
  platformKey: Uint8Array;
}

function csrPem(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'relay-csr-'));
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`], {
      encoding: 'utf8',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('relay and secure channel', () => {
  let app: FastifyInstance;
  let owner: Principal;
  let workspaceId: string;
  const parties: Party[] = [];
  const apiUserIds: string[] = [];

  const call = async (who: Party, method: 'GET' | 'POST', url: string, payload?: object) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${who.accessToken}` },
      ...(payload ? { payload: payload as Record<string, unknown> } : {}),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Record<string, unknown>>();
  };

  beforeAll(async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    app = await buildApp({
      config: {
        ...(await import('@countersign/platform')).defaultConfig,
        logLevel: 'silent',
        database: {},
      },
      database,
    });
    await app.ready();
    const ws = await app.services.workspaces.create({
      name: 'Relay',
      ownerEmail: 'owner@relay.test',
    });
    owner = ws.owner;
    workspaceId = ws.workspaceId;
    for (let i = 0; i < 3; i++) {
      const created = await app.services.apiUsers.create(owner, {
        name: `relay-${i}`,
        role: 'SIGNER',
        csrPem: csrPem(`relay-${i}`),
      });
      apiUserIds.push(created.user.id);
      const { pairingToken } = await app.services.pairing.issuePairingToken(owner, created.user.id);
      const identity = PartyIdentity.generate();
      const keys = identity.publicKeys();
      const paired = await app.inject({
        method: 'POST',
        url: '/cosigner/v1/pair',
        payload: {
          pairingToken,
          identity: {
            ed25519: Buffer.from(keys.identityKey).toString('hex'),
            x25519: Buffer.from(keys.agreementKey).toString('hex'),
          },
          cosignerName: `party ${i + 1}`,
          version: 'test',
          // Proof of possession of the identity key, bound to this pairing token.
          proof: Buffer.from(
            identity.sign(
              pairingProofMessage({
                jti: (
                  JSON.parse(Buffer.from(pairingToken.split('.')[1]!, 'base64url').toString()) as {
                    jti: string;
                  }
                ).jti,
                ed25519: Buffer.from(keys.identityKey).toString('hex'),
                x25519: Buffer.from(keys.agreementKey).toString('hex'),
              }),
            ),
          ).toString('hex'),
        },
      });
      // Every pairing waits for the workspace Owner's approval; the co-signer then collects its
      // first refresh token with its poll token.
      expect(paired.statusCode, paired.body).toBe(202);
      const pending = paired.json<{ requestId: string; pollToken: string }>();
      await app.services.approvals.decide(owner, pending.requestId, 'APPROVE');
      const polled = await app.inject({
        method: 'GET',
        url: `/cosigner/v1/pairings/${pending.requestId}`,
        headers: { authorization: `Bearer ${pending.pollToken}` },
      });
      expect(polled.statusCode, polled.body).toBe(200);
      const body = polled.json<{ cosignerId: string; refreshToken: string; platformKey: string }>();
      const tokens = await app.inject({
        method: 'POST',
        url: '/cosigner/v1/token',
        payload: { refreshToken: body.refreshToken },
      });
      parties.push({
        identity,
        cosignerId: body.cosignerId,
        accessToken: tokens.json<{ accessToken: string }>().accessToken,
        platformKey: Buffer.from(body.platformKey, 'hex'),
      });
    }
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    for (const p of parties) p.identity.dispose();
  });

  const newSession = (): Promise<string> =>
    app.services.database.db.transaction().execute((trx) =>
      app.services.mpcSessions.create(trx, {
        workspaceId,
        apiUserId: apiUserIds[2]!,
        purpose: 'KEYGEN',
        algorithm: 'EDDSA_ED25519',
        shareSetId: `relay-${Date.now()}`,
        threshold: 3,
        parties: parties.map((p, i) => ({ index: i + 1, cosignerId: p.cosignerId })),
        ttlMs: 60_000,
      }),
    );

  const channelOf = async (who: Party, sessionId: string): Promise<SecureChannel> => {
    const session = await call(who, 'GET', `/cosigner/v1/sessions/${sessionId}`);
    const roster = verifyRoster(Buffer.from(session['signedRoster'] as string, 'base64'), {
      platformKey: who.platformKey,
      me: who.identity.publicKeys(),
      expected: { sessionId: Buffer.from(sessionId, 'hex'), purpose: 'KEYGEN' },
    });
    return new SecureChannel({ identity: who.identity, roster, protocol: PROTOCOL });
  };

  it('delivers sealed messages intact; a payload altered by the platform is refused and the receiver aborts', async () => {
    const sessionId = await newSession();
    const [a, b] = parties as [Party, Party, Party];
    const chA = await channelOf(a, sessionId);
    const chB = await channelOf(b, sessionId);
    const sid = Buffer.from(sessionId, 'hex');
    const secret = Buffer.from('share for party 2: never readable by the relay');
    const p2p = chA.seal({ sid, protocol: PROTOCOL, round: 1, from: 1, to: 2, payload: secret });
    const bc = chA.seal({
      sid,
      protocol: PROTOCOL,
      round: 1,
      from: 1,
      to: 'broadcast',
      payload: Buffer.from('public commitment'),
    });
    // The relay stores ciphertext: the plaintext is nowhere in what it holds.
    expect(Buffer.from(p2p).includes(secret)).toBe(false);
    const url = `/cosigner/v1/sessions/${sessionId}/messages`;
    await call(a, 'POST', url, {
      messages: [
        { round: 1, to: 2, payload: Buffer.from(p2p).toString('base64') },
        { round: 1, to: null, payload: Buffer.from(bc).toString('base64') },
      ],
    });

    // Untouched: both open.
    const first = (await call(b, 'GET', `${url}?after=0`))['messages'] as { payload: string }[];
    const opened = first.map((m) => chB.open(Buffer.from(m.payload, 'base64')));
    expect(opened.map((o) => o.status)).toEqual(['accepted', 'accepted']);
    const received = opened[0]!;
    expect(received.status === 'accepted' && Buffer.from(received.message.payload)).toEqual(secret);

    // A rogue platform flips one ciphertext byte of a new point-to-point message in its database.
    const p2pRound2 = chA.seal({
      sid,
      protocol: PROTOCOL,
      round: 2,
      from: 1,
      to: 2,
      payload: secret,
    });
    await call(a, 'POST', url, {
      messages: [{ round: 2, to: 2, payload: Buffer.from(p2pRound2).toString('base64') }],
    });
    const db = app.services.database.db;
    const stored = await db
      .selectFrom('mpc_messages')
      .select(['seq', 'payload'])
      .where('session_id', '=', sessionId)
      .where('round', '=', 2)
      .executeTakeFirstOrThrow();
    const tampered = Buffer.from(stored.payload);
    tampered[tampered.length - 80]! ^= 0x01;
    await db
      .updateTable('mpc_messages')
      .set({ payload: tampered })
      .where('seq', '=', stored.seq)
      .execute();

    const next = (await call(b, 'GET', `${url}?after=0`))['messages'] as { payload: string }[];
    const last = Buffer.from(next[next.length - 1]!.payload, 'base64');
    let refused: unknown;
    try {
      chB.open(last);
    } catch (e) {
      refused = e;
    }
    expect(isChannelError(refused) && refused.code).toBe('ERR_CHANNEL_SIGNATURE_INVALID');
    // Unauthenticated damage blames nobody: the relay cannot frame party 1.
    expect(isChannelError(refused) && refused.culprit).toBeUndefined();

    // The receiver aborts: it fails its job, and the session fails for every party.
    let job: { jobId: string; leaseId: string; sessionId: string } | undefined;
    do {
      job = ((await call(b, 'GET', '/cosigner/v1/work?wait=0'))['jobs'] as (typeof job)[])[0];
    } while (job && job.sessionId !== sessionId);
    await call(b, 'POST', `/cosigner/v1/jobs/${job!.jobId}/result`, {
      leaseId: job!.leaseId,
      status: 'FAILED',
      reason: 'ERR_CHANNEL_SIGNATURE_INVALID',
    });
    const status = await call(a, 'GET', `${url}?after=0&wait=1`);
    expect(status['sessionStatus']).toBe('FAILED');
    chA.dispose();
    chB.dispose();
  });

  it('a roster altered in the platform database, or signed by another key, is refused', async () => {
    const sessionId = await newSession();
    const a = parties[0]!;
    const db = app.services.database.db;
    const row = await db
      .selectFrom('mpc_sessions')
      .select('signed_roster')
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    const signed = decodeSignedRoster(Buffer.from(row.signed_roster, 'base64'));
    // Swap party 2's keys for an attacker's, keep the old signature.
    const attacker = PartyIdentity.generate();
    const forgedParties = signed.roster.parties.map((p) =>
      p.index === 2
        ? {
            ...p,
            identityKey: attacker.publicKeys().identityKey,
            agreementKey: attacker.publicKeys().agreementKey,
          }
        : p,
    );
    const reSigned = signRoster(
      { ...signed.roster, parties: forgedParties },
      attacker.exportSecretKeys().identitySecretKey,
    );
    const withOldSignature = Buffer.concat([
      reSigned.subarray(0, reSigned.length - 64),
      signed.signature,
    ]);
    for (const forged of [withOldSignature, reSigned]) {
      await db
        .updateTable('mpc_sessions')
        .set({ signed_roster: Buffer.from(forged).toString('base64') })
        .where('id', '=', sessionId)
        .execute();
      let refused: unknown;
      try {
        await channelOf(a, sessionId);
      } catch (e) {
        refused = e;
      }
      expect(isChannelError(refused) && refused.code).toBe('ERR_CHANNEL_ROSTER_SIGNATURE_INVALID');
    }
    attacker.dispose();
  });
});
