/**
 * RSA keys and CSRs for tests. CSRs come from the real `openssl` binary, the
 * tool most users make them with. Key generation is slow, so keys are made
 * once per label and reused within a test file.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  privateKey: KeyObject;
  privateKeyPem: string;
  csrPem: string;
}

const cache = new Map<string, TestKey>();

export async function testKey(label: string, bits = 2048): Promise<TestKey> {
  const cacheKey = `${label}/${bits}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csrPem = await csrFor(privateKey, `/CN=${label}/O=Countersign Tests`);
  const key = { privateKey, privateKeyPem, csrPem };
  cache.set(cacheKey, key);
  return key;
}

/** `subject` in openssl's form: `/CN=name/O=org`. */
export function csrFor(privateKey: KeyObject, subject: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-csr-'));
  try {
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const csr = execFileSync(
      'openssl',
      ['req', '-new', '-key', keyFile, '-subj', subject, '-sha256'],
      {
        encoding: 'utf8',
      },
    );
    return Promise.resolve(csr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
