// `cosigner callback set|show|clear` on a real home (local KMS, production scrypt cost), and
// what a signing job then gets from askCallbackHandler: settings written by the command, the
// co-signer's own callback key from its store, and genuine handlers on loopback that verify
// the co-signer's requests with the key `cosigner print-public-key` printed.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  approve,
  createCallbackHandler,
  createNodeRequestListener,
  reject,
  retry,
  spkiSha256FromCertificatePem,
  type CallbackDecision,
} from '@countersign/callback-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { askCallbackHandler, type CallbackGateResult } from '../src/callback/callback-gate.js';
import type { CosignerStore } from '../src/store/cosigner-store.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { cosignerHome } from '../src/cli/home.js';
import { main } from '../src/cli/main.js';
import { withCosigner } from '../src/cli/open-cosigner.js';
import {
  rsaKeyPair,
  serve,
  tlsIdentity,
  txPayload,
  type Served,
  type TlsIdentity,
} from './callback-fixtures.js';
import { cleanupTempDirs, tempDir, TEST_PASSPHRASE, testLocalKms } from './store-helpers.js';

const ENV = { COSIGNER_PASSPHRASE: TEST_PASSPHRASE };
const API_KEY = 'api-key-1';

let dir: string;
let home: string;
let cosignerPublicPem: string;
let handlerTls: TlsIdentity;
const handlerKeys = rsaKeyPair();
const servers: Served[] = [];

async function cosigner(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...args, '--home', home], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: ENV,
  });
  return { code, stdout, stderr };
}

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** What a signing job for API_KEY gets now. */
function ask(): Promise<CallbackGateResult> {
  return withCosigner(cosignerHome(home, {}), {}, ENV, ({ store }) =>
    askCallbackHandler(store, API_KEY, 'tx_sign_request', txPayload()),
  );
}

/** A genuine JWT handler on loopback, signing with `keys`, verifying with print-public-key. */
async function jwtHandlerServer(keys: typeof handlerKeys, decide: () => CallbackDecision) {
  const server = await serve(
    createNodeRequestListener(
      createCallbackHandler({
        mode: {
          type: 'jwt',
          cosignerPublicKey: cosignerPublicPem,
          handlerPrivateKey: keys.privateKey,
        },
        onTxSignRequest: decide,
      }),
    ),
  );
  servers.push(server);
  return server;
}

beforeAll(async () => {
  dir = await tempDir('cosigner-callback-cli-');
  home = join(dir, 'home');
  // Its key file at the test scrypt cost, kept by setup: every open below derives the key.
  await mkdir(home, { mode: 0o700 });
  await (await testLocalKms(home, TEST_PASSPHRASE, 'local-kms.key')).close?.();
  expect((await cosigner('setup', '--kms', 'local')).code).toBe(ExitCode.OK);
  await withCosigner(cosignerHome(home, {}), {}, ENV, ({ store }) => {
    store.pairedApiKeys.addPairedApiKey({
      apiKeyId: API_KEY,
      cosignerId: 'cosigner-1',
      platformUrl: 'https://platform.example',
    });
  });
  cosignerPublicPem = (await cosigner('print-public-key')).stdout;
  handlerTls = tlsIdentity(dir, 'handler');
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await cleanupTempDirs();
});

describe('cosigner callback', () => {
  it('without a handler, show says so and signing jobs are approved automatically', async () => {
    const shown = await cosigner('callback', 'show', API_KEY);
    expect(shown.code).toBe(ExitCode.OK);
    expect(shown.stdout).toMatch(/No Callback Handler for api-key-1: .* signed automatically/);
    expect(JSON.parse((await cosigner('callback', 'show', API_KEY, '--json')).stdout)).toEqual({
      apiKeyId: API_KEY,
      callbackHandler: null,
    });
    expect(await ask()).toEqual({
      outcome: { action: 'APPROVE' },
      attempts: [],
      handlerConfigured: false,
    });
  });

  it('set JWT mode: a genuine handler verifying with print-public-key answers, show describes it, clear removes it', async () => {
    const server = await jwtHandlerServer(handlerKeys, () => reject('daily limit reached'));
    const keyFile = await file('handler-public.pem', handlerKeys.publicPem);
    const set = await cosigner(
      'callback',
      'set',
      API_KEY,
      '--url',
      server.url,
      '--public-key',
      keyFile,
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(ExitCode.OK);

    const shown = JSON.parse((await cosigner('callback', 'show', API_KEY, '--json')).stdout) as {
      callbackHandler: Record<string, unknown>;
    };
    expect(shown.callbackHandler).toMatchObject({
      mode: 'jwt',
      url: server.url,
      publicKeyBits: 2048,
      publicKey: handlerKeys.publicPem,
    });
    expect(shown.callbackHandler['publicKeySha256']).toMatch(/^[0-9a-f]{64}$/);
    expect((await cosigner('callback', 'show', API_KEY)).stdout).toContain('RSA 2048');

    const result = await ask();
    expect(result.handlerConfigured).toBe(true);
    expect(result.outcome).toEqual({ action: 'REJECT', rejectionReason: 'daily limit reached' });
    expect(server.requests()).toBe(1);

    const cleared = await cosigner('callback', 'clear', API_KEY);
    expect(cleared.code).toBe(ExitCode.OK);
    expect((await ask()).handlerConfigured).toBe(false);
    expect(server.requests()).toBe(1);
  });

  it('set pinned-TLS mode: show prints the SPKI pin of the certificate, and the pinned handler answers', async () => {
    const server = await serve(
      createNodeRequestListener(
        createCallbackHandler({ mode: { type: 'pinned-tls' }, onTxSignRequest: () => approve() }),
      ),
      handlerTls,
    );
    servers.push(server);
    const set = await cosigner(
      'callback',
      'set',
      API_KEY,
      '--url',
      server.url,
      '--cert',
      handlerTls.certFile,
    );
    expect(set.code).toBe(ExitCode.OK);
    const shown = JSON.parse((await cosigner('callback', 'show', API_KEY, '--json')).stdout) as {
      callbackHandler: Record<string, unknown>;
    };
    expect(shown.callbackHandler).toMatchObject({
      mode: 'pinned-tls',
      certificatePin: spkiSha256FromCertificatePem(handlerTls.cert),
      certificateSubject: 'CN=handler',
    });
    expect((await ask()).outcome).toEqual({ action: 'APPROVE' });
    expect((await cosigner('callback', 'clear', API_KEY)).code).toBe(ExitCode.OK);
  });

  it('refuses bad settings with exit 2 and a clear reason, storing nothing', async () => {
    const keyFile = await file('handler-public.pem', handlerKeys.publicPem);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const smallFile = await file(
      'small.pem',
      small.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    const privateFile = await file(
      'private.pem',
      handlerKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecFile = await file(
      'ec.pem',
      ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    const garbage = await file('garbage.pem', '<html>not a certificate</html>');
    const certAndKey = await file('cert-and-key.pem', handlerTls.cert + handlerTls.key);
    const https = 'https://handler.example/callback';
    const cases: [string[], RegExp][] = [
      [
        ['--url', 'http://handler.example/cb', '--public-key', keyFile],
        /must be https \(plain http only to 127\.0\.0\.1 or \[::1\]\)/,
      ],
      [['--url', 'http://localhost:8080', '--public-key', keyFile], /must be https/],
      [
        ['--url', 'http://127.0.0.1:8080', '--cert', handlerTls.certFile],
        /https in pinned-TLS mode/,
      ],
      [
        ['--url', 'https://user:pw@handler.example', '--public-key', keyFile],
        /no credentials, query or fragment/,
      ],
      [['--url', 'not a url', '--public-key', keyFile], /not a URL/],
      [['--url', https, '--public-key', smallFile], /1024 bits, at least 2048/],
      [['--url', https, '--public-key', ecFile], /must be an RSA key/],
      [['--url', https, '--public-key', privateFile], /holds a private key/],
      [['--url', https, '--cert', garbage], /exactly one PEM certificate/],
      [['--url', https, '--cert', keyFile], /exactly one PEM certificate/],
      [['--url', https, '--cert', certAndKey], /holds a private key; give the certificate alone/],
      [
        ['--url', https, '--public-key', join(dir, 'missing.pem')],
        /cannot read .*missing\.pem \(ENOENT\)/,
      ],
      [['--url', https, '--public-key', keyFile, '--cert', handlerTls.certFile], /exactly one of/],
      [['--url', https], /exactly one of/],
      [['--public-key', keyFile], /needs --url/],
    ];
    for (const [flags, message] of cases) {
      const run = await cosigner('callback', 'set', API_KEY, ...flags);
      expect(run.code, flags.join(' ')).toBe(ExitCode.USAGE);
      expect(run.stderr).toMatch(message);
    }
    expect((await cosigner('callback', 'show', API_KEY)).stdout).toMatch(/No Callback Handler/);
    expect((await cosigner('callback', 'show', API_KEY, '--url', https)).code).toBe(ExitCode.USAGE);
    expect((await cosigner('callback', 'frob', API_KEY)).code).toBe(ExitCode.USAGE);
    expect((await cosigner('callback', 'show')).code).toBe(ExitCode.USAGE);
  });

  it('stores and shows the re-encoded certificate, not the operator`s file (review F7)', async () => {
    const bagged = await file(
      'bagged.crt',
      `Bag Attributes\n    friendlyName: handler\nsubject=CN = handler\n${handlerTls.cert}`,
    );
    const set = await cosigner(
      'callback',
      'set',
      API_KEY,
      '--url',
      'https://cb.example/hook',
      '--cert',
      bagged,
    );
    expect(set.code).toBe(ExitCode.OK);
    const shown = await cosigner('callback', 'show', API_KEY, '--json');
    const view = (JSON.parse(shown.stdout) as { callbackHandler: { cert: string } })
      .callbackHandler;
    expect(view.cert).toBe(new X509Certificate(handlerTls.cert).toString());
    expect(shown.stdout).not.toContain('Bag Attributes');
    const stored = await withCosigner(cosignerHome(home, {}), {}, ENV, ({ store }) =>
      JSON.stringify(store.pairedApiKeys.getPairedApiKey(API_KEY)?.callbackHandler),
    );
    expect(stored).not.toContain('Bag Attributes');
    expect(stored).not.toContain('PRIVATE KEY');
    expect((await cosigner('callback', 'clear', API_KEY)).code).toBe(ExitCode.OK);
  });

  it('an unpaired API key gets no answer from the gate, not even the automatic APPROVE (review F8)', async () => {
    await withCosigner(cosignerHome(home, {}), {}, ENV, async ({ store }) => {
      store.pairedApiKeys.addPairedApiKey({
        apiKeyId: 'api-key-gone',
        cosignerId: 'cosigner-1',
        platformUrl: 'https://platform.example',
      });
      store.pairedApiKeys.markUnpaired('api-key-gone');
      await expect(
        askCallbackHandler(store, 'api-key-gone', 'tx_sign_request', txPayload()),
      ).rejects.toMatchObject({ code: 'ERR_COSIGNER_NOT_FOUND' });
    });
  });

  it('an API key that is not paired here fails with exit 1', async () => {
    const keyFile = await file('handler-public.pem', handlerKeys.publicPem);
    const url = 'https://handler.example';
    const set = await cosigner(
      'callback',
      'set',
      'api-key-9',
      '--url',
      url,
      '--public-key',
      keyFile,
    );
    expect(set.code).toBe(ExitCode.FAILURE);
    expect(set.stderr).toMatch(/not found: API key api-key-9/);
    expect((await cosigner('callback', 'show', 'api-key-9')).code).toBe(ExitCode.FAILURE);
    expect((await cosigner('callback', 'clear', 'api-key-9')).code).toBe(ExitCode.FAILURE);
  });
});

describe('a request waiting on RETRY follows the stored settings (review F4)', () => {
  const rotatedKeys = rsaKeyPair();

  const settings = (server: Served, keys: typeof handlerKeys) => ({
    mode: 'jwt' as const,
    url: server.url,
    publicKey: keys.publicPem,
  });

  /** askCallbackHandler on the real store; `duringWait` runs in place of the 3-minute sleep. */
  function askWhile(
    first: ReturnType<typeof settings>,
    duringWait: (store: CosignerStore) => void,
    opened: (store: CosignerStore) => void = () => undefined,
  ): Promise<CallbackGateResult> {
    return withCosigner(cosignerHome(home, {}), {}, ENV, ({ store }) => {
      opened(store);
      store.pairedApiKeys.setCallbackHandler(API_KEY, first);
      return askCallbackHandler(store, API_KEY, 'tx_sign_request', txPayload(), {
        sleep: () => {
          duringWait(store);
          return Promise.resolve();
        },
      }).finally(() => store.pairedApiKeys.setCallbackHandler(API_KEY, null));
    });
  }

  it('rotated to a new handler and key while waiting: the old handler is not asked again, FAILED CALLBACK_CONFIG_CHANGED', async () => {
    let asked = 0;
    const old = await jwtHandlerServer(handlerKeys, () => (++asked === 1 ? retry() : approve()));
    const rotated = await jwtHandlerServer(rotatedKeys, () => approve());
    const result = await askWhile(settings(old, handlerKeys), (store) =>
      store.pairedApiKeys.setCallbackHandler(API_KEY, settings(rotated, rotatedKeys)),
    );
    expect(result.outcome).toMatchObject({
      action: 'FAILED',
      subStatus: 'CALLBACK_CONFIG_CHANGED',
      detail: 'the Callback Handler settings were changed',
    });
    expect(result.attempts.map((a) => a.outcome.action)).toEqual(['RETRY']);
    expect([old.requests(), rotated.requests()]).toEqual([1, 0]);
  });

  it('cleared while waiting: FAILED CALLBACK_CONFIG_CHANGED, not an automatic APPROVE', async () => {
    let asked = 0;
    const old = await jwtHandlerServer(handlerKeys, () => (++asked === 1 ? retry() : approve()));
    const result = await askWhile(settings(old, handlerKeys), (store) =>
      store.pairedApiKeys.setCallbackHandler(API_KEY, null),
    );
    expect(result.handlerConfigured).toBe(true);
    expect(result.outcome).toMatchObject({
      action: 'FAILED',
      subStatus: 'CALLBACK_CONFIG_CHANGED',
      detail: 'the Callback Handler was cleared',
    });
    expect(old.requests()).toBe(1);
  });

  it('changed while an ask was in flight: that APPROVE does not count', async () => {
    let store!: CosignerStore;
    const rotated = await jwtHandlerServer(rotatedKeys, () => approve());
    const old = await jwtHandlerServer(handlerKeys, () => {
      store.pairedApiKeys.setCallbackHandler(API_KEY, settings(rotated, rotatedKeys));
      return approve();
    });
    const result = await askWhile(
      settings(old, handlerKeys),
      () => undefined,
      (opened) => (store = opened),
    );
    expect(result.outcome).toMatchObject({ subStatus: 'CALLBACK_CONFIG_CHANGED' });
    expect(result.attempts.map((a) => a.outcome.action)).toEqual(['APPROVE']);
  });

  it('unchanged settings: the re-ask goes to the same handler and its APPROVE counts', async () => {
    let asked = 0;
    const same = await jwtHandlerServer(handlerKeys, () => (++asked === 1 ? retry() : approve()));
    const result = await askWhile(settings(same, handlerKeys), () => undefined);
    expect(result.outcome).toEqual({ action: 'APPROVE' });
    expect(same.requests()).toBe(2);
  });
});
