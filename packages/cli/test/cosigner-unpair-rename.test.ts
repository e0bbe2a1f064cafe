/**
 * `cosigner rename` and `cosigner unpair` on the API co-signer's host, end to end with real
 * processes on loopback (issue #5): the whole signing stack (`countersign dev`, two Cloud
 * Co-signers, the API co-signer paired to a Signer, share sets from KEYGEN), then the commands
 * run beside the running daemons. Rename changes the name here and in the platform's record;
 * unpair destroys the API co-signer's shares, the platform records the pairing UNPAIRED (both
 * audited with the co-signer as actor), the signer signs nothing any more, and both running
 * Cloud Co-signers destroy their shares of the signer's share sets (ARCHITECTURE §3 "Unpair"):
 * their stores hold none of them, and the platform's audit log shows each confirmation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';
import { cosigner, shareSetsOf, startSigningStack, type SigningStack } from './signing-stack.js';

interface AuditEntry {
  event: string;
  user: string;
  subject: string;
  details: Record<string, unknown>;
}

describe('cosigner rename / unpair against the platform', () => {
  let stack: SigningStack;
  let cosignerId: string;
  let originalName: string;

  beforeAll(async () => {
    stack = await startSigningStack('countersign-unpair-');
    const status = cosigner(['status', '--home', 'api-cosigner', '--json'], stack.cwd);
    const parsed = JSON.parse(status.stdout) as { name: string; platform: { cosignerId: string } };
    cosignerId = parsed.platform.cosignerId;
    originalName = parsed.name;
  }, 400_000);
  afterAll(async () => {
    if (stack) {
      expect(await stack.stop()).toEqual([0, 0, 0]);
      stack.remove();
    }
  });

  const api = (method: string, path: string, body?: object) => {
    const r = runCli(
      ['api', method, path, ...(body ? ['--body', JSON.stringify(body)] : [])],
      stack.cwd,
    );
    return {
      status: r.status,
      body: r.stdout === '' ? undefined : (JSON.parse(r.stdout) as unknown),
      stderr: r.stderr,
    };
  };
  const audit = (event: string): AuditEntry[] =>
    (api('GET', '/v1/management/audit_logs?limit=500').body as { data: AuditEntry[] }).data.filter(
      (e) => e.event === event,
    );

  it('rename: the local name and the platform record change, audited with the co-signer as actor', () => {
    const renamed = cosigner(
      ['rename', 'treasury east', '--home', 'api-cosigner', '--json'],
      stack.cwd,
    );
    expect(renamed.status, renamed.stderr).toBe(0);
    expect(JSON.parse(renamed.stdout)).toEqual({
      name: 'treasury east',
      from: originalName,
      platform: 'renamed',
    });
    const status = cosigner(['status', '--home', 'api-cosigner', '--json'], stack.cwd);
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'treasury east' });
    const record = api('GET', `/v1/cosigners/${cosignerId}`);
    expect(record.status, record.stderr).toBe(0);
    expect(record.body).toMatchObject({ id: cosignerId, name: 'treasury east' });
    expect(audit('cosigner.renamed')).toContainEqual(
      expect.objectContaining({
        user: cosignerId,
        subject: cosignerId,
        details: { from: originalName, to: 'treasury east', by: 'cosigner' },
      }),
    );
  });

  it('unpair: shares destroyed here, UNPAIRED on the platform (audited), and the signer signs nothing more', () => {
    const signer = stack.signerId;
    expect(shareSetsOf('api-cosigner', stack.cwd)).toHaveLength(2);
    const unconfirmed = cosigner(['unpair', signer, '--home', 'api-cosigner'], stack.cwd);
    expect(unconfirmed.status).toBe(2);
    expect(unconfirmed.stderr).toMatch(/destroys this co-signer's shares of 2 share set\(s\)/);
    expect(api('GET', `/v1/cosigners/${cosignerId}/api_keys/${signer}`).status).toBe(0);

    const done = cosigner(
      ['unpair', signer, '--yes', '--home', 'api-cosigner', '--json'],
      stack.cwd,
    );
    expect(done.status, done.stderr).toBe(0);
    const outcome = JSON.parse(done.stdout) as { destroyedShareSets: string[]; platform: string };
    expect(outcome.platform).toBe('told');
    expect(outcome.destroyedShareSets.sort()).toEqual(stack.shareSets[2]!.map((s) => s.id).sort());
    expect(shareSetsOf('api-cosigner', stack.cwd)).toEqual([]);

    expect(api('GET', `/v1/cosigners/${cosignerId}/api_keys/${signer}`).status).not.toBe(0);
    expect(audit('cosigner.api_key_unpaired')).toContainEqual(
      expect.objectContaining({
        user: cosignerId,
        subject: cosignerId,
        details: { apiUserId: signer, by: 'cosigner' },
      }),
    );

    // The signer no longer signs: a RAW transaction fails at once.
    const created = api('POST', '/v1/transactions', {
      operation: 'RAW',
      source: { type: 'VAULT_ACCOUNT', id: '0' },
      extraParameters: {
        rawMessageData: {
          algorithm: 'MPC_EDDSA_ED25519',
          messages: [{ content: Buffer.from('after unpair').toString('hex') }],
        },
      },
    });
    expect(created.status, created.stderr).toBe(0);
    const tx = api('GET', `/v1/transactions/${(created.body as { id: string }).id}`);
    expect(tx.body).toMatchObject({ status: 'FAILED', subStatus: 'SIGNER_NOT_FOUND' });

    // Repeatable: the platform answers the same.
    const again = cosigner(
      ['unpair', signer, '--yes', '--home', 'api-cosigner', '--json'],
      stack.cwd,
    );
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      alreadyUnpaired: true,
      destroyedShareSets: [],
      platform: 'told',
    });
  });

  it('unpair: both Cloud Co-signers destroy their shares of the share sets, and the platform shows it', async () => {
    const ids = stack.shareSets[2]!.map((s) => s.id).sort();
    expect(ids).toHaveLength(2);
    for (const home of ['cloud-1', 'cloud-2'])
      expect(stack.shareSets[home === 'cloud-1' ? 0 : 1]!.map((s) => s.id).sort()).toEqual(ids);
    // The daemons take their DESTROY jobs at their next poll: watch the stores (no fixed sleep).
    const held = () =>
      ['cloud-1', 'cloud-2'].flatMap((home) =>
        shareSetsOf(home, stack.cwd)
          .filter((s) => ids.includes(s.id))
          .map((s) => `${home}:${s.id}`),
      );
    const deadline = Date.now() + 60_000;
    while (held().length > 0) {
      if (Date.now() > deadline)
        throw new Error(`clouds still hold ${held().join(', ')}\n${stack.logs()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // Both clouds' confirmations, one per share set each, and the requests that caused them.
    const confirmed = () => audit('mpc.share_set_destroyed').filter((e) => ids.includes(e.subject));
    while (confirmed().length < 4) {
      if (Date.now() > deadline) throw new Error(`confirmations: ${JSON.stringify(confirmed())}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(
      confirmed()
        .map(
          (e) => `${e.subject}:${String(e.details['cloud'])}:${String(e.details['heldUntilNow'])}`,
        )
        .sort(),
    ).toEqual(ids.flatMap((id) => [`${id}:1:true`, `${id}:2:true`]).sort());
    expect(
      audit('mpc.share_set_destruction_requested')
        .filter((e) => ids.includes(e.subject))
        .map((e) => e.details['reason']),
    ).toEqual(['UNPAIRED_BY_COSIGNER', 'UNPAIRED_BY_COSIGNER']);
    expect(audit('mpc.share_set_destruction_failed')).toEqual([]);
  });
});
