// The reference handler's rules, each through the real handler over loopback HTTP (JWT mode)
// with a fixed clock: allowlist, amount cap, velocity (also across a restart), business hours
// in the rules' time zone, denylist precedence, operations, default action, configuration
// changes; and the audit log: one fsynced line per request, free of tokens and keys.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  AuditLog,
  createNodeRequestListener,
  createReferenceHandler,
  parseRules,
  signCallbackRequest,
  VelocityStore,
  verifyCallbackResponse,
  type CallbackResponse,
  type TxSignRequest,
} from '../src/index.js';
import {
  close,
  configChangeRequest,
  EXAMPLE_RULES,
  listen,
  post,
  rsaPair,
  txSignRequest,
} from './helpers.js';

const cosigner = rsaPair();
const handlerKeys = rsaPair();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// Wednesday 25 November 2026, 10:00 in New York (EST, UTC-5).
const WEDNESDAY_10_NY = Date.parse('2026-11-25T15:00:00Z');
const ETH_ADDRESS = '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8';

interface Running {
  url: string;
  ask: (payload: object, path?: string) => Promise<CallbackResponse>;
  stop: () => Promise<void>;
  clock: { now: number };
  auditPath: string;
}

async function start(
  rules: object,
  stateDir?: string,
  clock = { now: WEDNESDAY_10_NY },
): Promise<Running & { stateDir: string }> {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), 'callback-ref-'));
  if (stateDir === undefined) dirs.push(dir);
  const auditPath = join(dir, 'audit.jsonl');
  const velocity = await VelocityStore.open(dir);
  const audit = await AuditLog.open(auditPath);
  const handler = createReferenceHandler({
    mode: {
      type: 'jwt',
      cosignerPublicKey: cosigner.publicKey,
      handlerPrivateKey: handlerKeys.privateKey,
    },
    rules: parseRules(rules),
    velocity,
    audit,
    now: () => clock.now,
  });
  const server: Server = createServer(createNodeRequestListener(handler));
  const port = await listen(server);
  return {
    stateDir: dir,
    url: `http://127.0.0.1:${port}`,
    auditPath,
    clock,
    ask: async (payload, path = '/v2/tx_sign_request') => {
      const seconds = Math.floor(clock.now / 1000);
      const token = signCallbackRequest(
        payload as Record<string, unknown>,
        cosigner.privateKey,
        seconds,
      );
      const answer = await post(`http://127.0.0.1:${port}${path}`, token);
      expect(answer.status).toBe(200);
      return verifyCallbackResponse(answer.body, handlerKeys.publicKey, {
        nowSeconds: seconds,
        clockSkewSeconds: 30,
        requireTimestamps: true,
        expectedRequestId: (payload as { requestId: string }).requestId,
      });
    },
    stop: async () => {
      await close(server);
      await audit.close();
    },
  };
}

/** An ETH transfer of `amount` to `address` (top-level and destinations[] agree). */
function eth(
  amount: string,
  address = ETH_ADDRESS,
  extra: Partial<TxSignRequest> = {},
): TxSignRequest {
  return txSignRequest({
    asset: 'ETH',
    amountStr: amount,
    requestedAmountStr: amount,
    destAddress: address,
    destinations: [
      { amountNativeStr: amount, dstAddress: address, dstType: 'ONE_TIME_ADDRESS', dstId: '' },
    ],
    ...extra,
  });
}

describe('reference handler rules', () => {
  it('allowlist: approves an allowlisted address (any hex case) or vault id, rejects others', async () => {
    const h = await start(EXAMPLE_RULES);
    try {
      expect((await h.ask(eth('1'))).action).toBe('APPROVE');
      expect((await h.ask(eth('1', ETH_ADDRESS.toLowerCase()))).action).toBe('APPROVE');
      const vault = txSignRequest({
        asset: 'ETH',
        amountStr: '1',
        requestedAmountStr: '1',
        destType: 'VAULT',
        destId: '1',
        destAddress: '',
        destinations: [{ amountNativeStr: '1', dstType: 'VAULT', dstId: '1' }],
      });
      expect((await h.ask(vault)).action).toBe('APPROVE');
      const stranger = await h.ask(eth('1', '0x1111111111111111111111111111111111111111'));
      expect(stranger).toMatchObject({
        action: 'REJECT',
        rejectionReason: 'destination is not on the ETH allowlist',
      });
      // One allowlisted destination does not carry another that is not.
      const mixed = eth('1', ETH_ADDRESS, {
        destinations: [
          {
            amountNativeStr: '0.5',
            dstAddress: ETH_ADDRESS,
            dstType: 'ONE_TIME_ADDRESS',
            dstId: '',
          },
          {
            amountNativeStr: '0.5',
            dstAddress: '0x2222222222222222222222222222222222222222',
            dstType: 'ONE_TIME_ADDRESS',
            dstId: '',
          },
        ],
      });
      expect((await h.ask(mixed)).action).toBe('REJECT');
    } finally {
      await h.stop();
    }
  });

  it('amount cap: at the cap approves, above rejects, judged on the larger of amount and requested', async () => {
    const h = await start({
      ...EXAMPLE_RULES,
      assets: { ETH: { allowlist: 'ANY', maxAmount: '10' } },
    });
    try {
      expect((await h.ask(eth('10.000'))).action).toBe('APPROVE');
      expect(await h.ask(eth('10.000000000000000001'))).toMatchObject({
        action: 'REJECT',
        rejectionReason: 'amount 10.000000000000000001 ETH is above the cap of 10',
      });
      expect((await h.ask(eth('1', ETH_ADDRESS, { requestedAmountStr: '11' }))).action).toBe(
        'REJECT',
      );
    } finally {
      await h.stop();
    }
  });

  it('velocity: amount and count per rolling window, kept across a restart, freed as the window rolls', async () => {
    const rules = {
      ...EXAMPLE_RULES,
      businessHours: undefined,
      assets: {
        ETH: {
          allowlist: 'ANY',
          velocity: [{ windowSeconds: 3600, maxAmount: '25', maxCount: 3 }],
        },
      },
    };
    const first = await start(rules);
    expect((await first.ask(eth('10'))).action).toBe('APPROVE');
    first.clock.now += 60_000;
    const repeat = eth('10');
    expect((await first.ask(repeat)).action).toBe('APPROVE');
    // The same request asked again (a co-signer retry) counts once.
    expect((await first.ask(repeat)).action).toBe('APPROVE');
    await first.stop();

    // A new process on the same state directory: the window is not reset.
    const second = await start(rules, first.stateDir, { now: first.clock.now + 60_000 });
    expect(await second.ask(eth('6'))).toMatchObject({
      action: 'REJECT',
      rejectionReason: 'ETH approved in 3600 s would exceed 25',
    });
    expect((await second.ask(eth('5'))).action).toBe('APPROVE'); // 25 exactly
    expect(await second.ask(eth('0'))).toMatchObject({
      action: 'REJECT',
      rejectionReason: 'more than 3 ETH approvals in 3600 s',
    });
    // An hour after the first approval it leaves the window.
    second.clock.now = WEDNESDAY_10_NY + 3_600_001;
    expect((await second.ask(eth('10'))).action).toBe('APPROVE');
    await second.stop();
    const state = JSON.parse(readFileSync(join(first.stateDir, 'velocity-state.json'), 'utf8')) as {
      approvals: { amount: string }[];
    };
    expect(state.approvals.map((a: { amount: string }) => a.amount)).toEqual(['10', '5', '10']);
  });

  it('velocity: concurrent requests cannot both fit under one cap', async () => {
    const h = await start({
      ...EXAMPLE_RULES,
      assets: { ETH: { allowlist: 'ANY', velocity: [{ windowSeconds: 60, maxCount: 1 }] } },
    });
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => h.ask(eth('1'))));
      expect(answers.filter((a) => a.action === 'APPROVE')).toHaveLength(1);
      expect(answers.filter((a) => a.action === 'REJECT')).toHaveLength(7);
    } finally {
      await h.stop();
    }
  });

  it('refuses to start on a damaged velocity state instead of resetting the window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callback-ref-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'velocity-state.json'), '{"version":1,"approvals":[{"asset":"ETH"');
    await expect(VelocityStore.open(dir)).rejects.toMatchObject({ code: 'ERR_CALLBACK_STATE' });
  });

  it('business hours: in the rules time zone, with a fixed clock', async () => {
    const h = await start({ ...EXAMPLE_RULES, assets: { ETH: { allowlist: 'ANY' } } });
    try {
      expect((await h.ask(eth('1'))).action).toBe('APPROVE'); // Wed 10:00 New York
      h.clock.now = Date.parse('2026-11-25T13:30:00Z'); // 08:30 in New York, 13:30 UTC
      expect(await h.ask(eth('1'))).toMatchObject({
        action: 'REJECT',
        rejectionReason: 'outside business hours',
      });
      h.clock.now = Date.parse('2026-11-25T22:29:59Z'); // 17:29:59 in New York
      expect((await h.ask(eth('1'))).action).toBe('APPROVE');
      h.clock.now = Date.parse('2026-11-25T22:30:00Z'); // 17:30, the end is exclusive
      expect((await h.ask(eth('1'))).action).toBe('REJECT');
      h.clock.now = Date.parse('2026-11-28T15:00:00Z'); // Saturday 10:00
      expect((await h.ask(eth('1'))).action).toBe('REJECT');
    } finally {
      await h.stop();
    }
    const retry = await start(
      {
        ...EXAMPLE_RULES,
        businessHours: { ...EXAMPLE_RULES.businessHours, outsideAction: 'RETRY' },
      },
      undefined,
      { now: Date.parse('2026-11-28T15:00:00Z') },
    );
    try {
      expect((await retry.ask(eth('1'))).action).toBe('RETRY');
    } finally {
      await retry.stop();
    }
  });

  it('denylist takes precedence over allowlist, ANY, default APPROVE and business hours', async () => {
    const h = await start({
      ...EXAMPLE_RULES,
      defaultAction: 'APPROVE',
      assets: {
        ETH: { allowlist: [{ address: '0x000000000000000000000000000000000000dEaD' }] },
        BTC: { allowlist: 'ANY' },
      },
    });
    try {
      const dead = '0x000000000000000000000000000000000000dead';
      expect(await h.ask(eth('1', dead))).toMatchObject({
        action: 'REJECT',
        rejectionReason: 'destination is on the denylist',
      });
      const btc = txSignRequest({
        asset: 'BTC',
        destAddress: 'bc1q-anything',
        destinations: [
          {
            amountNativeStr: '0.01',
            dstAddress: 'bc1q-anything',
            dstType: 'EXCHANGE',
            dstId: 'ex-9',
          },
        ],
      });
      expect((await h.ask(btc)).action).toBe('REJECT');
      // Default APPROVE applies to an asset without a rule — unless denylisted.
      expect((await h.ask(txSignRequest({ asset: 'SOL' }))).action).toBe('APPROVE');
      expect(
        (
          await h.ask(
            txSignRequest({ asset: 'SOL', destAddress: dead.toUpperCase().replace('0X', '0x') }),
          )
        ).action,
      ).toBe('REJECT');
    } finally {
      await h.stop();
    }
  });

  it('operations: only TRANSFER unless listed; default REJECT for an asset without a rule', async () => {
    const h = await start({ ...EXAMPLE_RULES, assets: { ETH: { allowlist: 'ANY' } } });
    try {
      expect(await h.ask(eth('1', ETH_ADDRESS, { operation: 'RAW' }))).toMatchObject({
        action: 'REJECT',
        rejectionReason: 'operation RAW is not allowed',
      });
      expect(await h.ask(txSignRequest({ asset: 'DOGE' }))).toMatchObject({
        action: 'REJECT',
        rejectionReason: 'no rule for asset DOGE',
      });
    } finally {
      await h.stop();
    }
  });

  it('configuration changes: approved only by type', async () => {
    const h = await start(EXAMPLE_RULES);
    try {
      const wallet = configChangeRequest({ type: 'UNMANAGED_WALLET' });
      expect((await h.ask(wallet, '/v2/config_change_sign_request')).action).toBe('APPROVE');
      const user = configChangeRequest({ type: 'ADD_USER' });
      expect((await h.ask(user, '/v2/config_change_sign_request')).action).toBe('REJECT');
    } finally {
      await h.stop();
    }
  });

  it('audit log: one line per request, with decision and rule, no token and no key', async () => {
    const h = await start(EXAMPLE_RULES);
    const approved = eth('1');
    const rejected = eth('11');
    await h.ask(approved);
    await h.ask(rejected);
    const forged = signCallbackRequest(
      { ...eth('1') },
      handlerKeys.privateKey,
      Math.floor(h.clock.now / 1000),
    );
    expect((await post(`${h.url}/v2/tx_sign_request`, forged)).status).toBe(401);
    await h.stop();
    const text = readFileSync(h.auditPath, 'utf8');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      kind: 'tx_sign_request',
      outcome: 'answered',
      requestId: approved.requestId,
      action: 'APPROVE',
      rule: '/assets/ETH',
      request: { txId: approved.txId, amountStr: '1' },
    });
    expect(lines[1]).toMatchObject({
      requestId: rejected.requestId,
      action: 'REJECT',
      rule: '/assets/ETH/maxAmount',
    });
    expect(lines[2]).toMatchObject({
      outcome: 'refused',
      status: 401,
      error: { code: 'ERR_CALLBACK_JWT_INVALID' },
    });
    expect(lines[2]?.request).toBeUndefined();
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(handlerKeys.publicPem.split('\n')[1]!);
  });
});
