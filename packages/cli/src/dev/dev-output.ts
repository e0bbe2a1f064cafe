/**
 * What `countersign dev` tells a newcomer once it runs: the API credentials and, with the signing
 * stack, where the co-signers keep their state and the exact commands that sign a RAW message
 * with each root key and read the result — the same commands as the README's "First steps"
 * (test/dev.test.ts runs those).
 */
import { relative, resolve } from 'node:path';
import { UsageError } from '../exit-codes.js';
import { devDir } from '../dev-state.js';
import { PASSPHRASE_FILE } from './dev-passphrase.js';

/** "Hello, Countersign": EdDSA signs the message itself (RFC 8032). */
const MESSAGE_HEX = '48656c6c6f2c20436f756e7465727369676e';
/** SHA-256("Hello, Countersign"): ECDSA signs a 32-byte digest as given. */
const DIGEST_HEX = '039f6d604b5a3734846dda9e45099a4edbdb2bacee9331d93d63d20957e558bd';

/** One RAW request: Idempotency-Key and externalTxId make it safe to re-run and easy to read back. */
function signCommand(name: string, algorithm: string, content: string): string {
  const body = {
    operation: 'RAW',
    source: { type: 'VAULT_ACCOUNT', id: '0' },
    externalTxId: name,
    extraParameters: { rawMessageData: { algorithm, messages: [{ content }] } },
  };
  return `npx countersign api POST /v1/transactions --idempotency-key ${name} --body '${JSON.stringify(body)}'`;
}

/** What `countersign dev` prints once it runs; `stackHome` when the co-signers run too. */
export function runningMessage(running: {
  workspaceId: string;
  baseUrl: string;
  apiKey: string;
  keyPath: string;
  stackHome: string | undefined;
}): string {
  const { stackHome } = running;
  return `
Countersign is running (embedded database, workspace ${running.workspaceId})

  Base URL:      ${running.baseUrl}/v1
  API key:       ${running.apiKey}   (role ADMIN)
  Private key:   ${running.keyPath}
  OpenAPI:       ${running.baseUrl}/docs/json
${stackHome === undefined ? '' : `${devStackSummary(stackHome)}\n\n${signRawCommands()}\n`}
${stackHome === undefined ? 'Next steps' : 'More to try'} (in another terminal):
  npx countersign api GET /v1/management/api_users
  npx countersign csr --name my-bot --org "My Company" --out ./my-bot
  npx countersign api-user create --name my-bot --role VIEWER --csr ./my-bot/api_user.csr
  npx countersign api GET /v1/management/audit_logs

Press Ctrl+C to stop.`;
}

/** The commands that sign "Hello, Countersign" with both root keys and read the results. */
function signRawCommands(): string {
  return `Sign a RAW message (in another terminal):
  # Ed25519 (EdDSA) signs the message itself: hex of "Hello, Countersign"
  ${signCommand('hello-ed25519', 'MPC_EDDSA_ED25519', MESSAGE_HEX)}
  # secp256k1 (ECDSA) signs a 32-byte digest as given: here SHA-256 of the same message
  ${signCommand('hello-secp256k1', 'MPC_ECDSA_SECP256K1', DIGEST_HEX)}
  # The results: status COMPLETED, and signedMessages[] with the signature and the derived public key
  npx countersign api GET /v1/transactions/external_tx_id/hello-ed25519
  npx countersign api GET /v1/transactions/external_tx_id/hello-secp256k1`;
}

/** The co-signer lines of the summary. */
function devStackSummary(home: string): string {
  const show = (path: string): string => relative(process.cwd(), path) || path;
  return `  Co-signers:    cloud-1, cloud-2 (Cloud Co-signers), dev-api (API co-signer of the
                 SIGNER API user dev-signer) and sandbox (the communal test co-signer of
                 sandbox workspaces), in this process; stores in ${show(resolve(home, 'cosigners'))}/
  KMS:           local key files, passphrase in ${show(resolve(devDir(home), PASSPHRASE_FILE))}
                 (development only: keep real keys in an HSM or cloud KMS)`;
}

/**
 * The platform's URL for the in-process co-signers: loopback, which is all a co-signer accepts
 * over plain http (it insists on https anywhere else).
 */
export function cosignerPlatformUrl(host: string, port: number): string {
  if (['127.0.0.1', '0.0.0.0', 'localhost'].includes(host)) return `http://127.0.0.1:${port}`;
  if (['::1', '::'].includes(host)) return `http://[::1]:${port}`;
  throw new UsageError(
    `--host ${host}: the embedded co-signers reach the platform over loopback; listen on ` +
      '127.0.0.1, 0.0.0.0, ::1 or ::, or pass --platform-only',
  );
}
