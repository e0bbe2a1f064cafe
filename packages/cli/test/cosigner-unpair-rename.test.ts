/**
 * `cosigner rename` and `cosigner unpair` on the API co-signer's host, end to end with real
 * processes on loopback (issue #5): the whole signing stack (`countersign dev`, two Cloud
 * Co-signers, the API co-signer paired to a Signer, share sets from KEYGEN), then the commands
 * run beside the running daemons. Rename changes the name here and in the platform's record;
 * unpair destroys the API co-signer's shares, the platform records the pairing UNPAIRED (both
 * audited with the co-signer as actor), and the signer signs nothing any more.
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
    // The cloud co-signers' shares are untouched (destroying them is the platform's follow-up).
    expect(shareSetsOf('cloud-1', stack.cwd)).toHaveLength(2);

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
});
