// A fresh SoftHSM2 token in a temporary directory, made once per test file (process).
// SoftHSM2 missing is a failure, not a skip: .ci/run installs it (apt package `softhsm2`).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { tempDir } from './store-helpers.js';

const LIBRARY_CANDIDATES = [
  process.env['SOFTHSM2_LIB'],
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

export const SOFTHSM_TOKEN = 'countersign-test';
export const SOFTHSM_PIN = '246813';

/** The token the tests use: its module path, label and user PIN. */
export interface SoftHsmToken {
  readonly library: string;
  readonly tokenLabel: string;
  readonly pin: string;
  /** SOFTHSM2_CONF of the token, for child processes. */
  readonly conf: string;
}

let token: Promise<SoftHsmToken> | undefined;

/** Creates the token on first call (and points this process's SOFTHSM2_CONF at it). */
export function softHsmToken(): Promise<SoftHsmToken> {
  token ??= createToken();
  return token;
}

async function createToken(): Promise<SoftHsmToken> {
  const library = LIBRARY_CANDIDATES.find((p) => p !== undefined && existsSync(p));
  let util = '';
  try {
    util = execFileSync('softhsm2-util', ['--version'], { encoding: 'utf8' });
  } catch {
    // reported below
  }
  if (library === undefined || util === '') {
    throw new Error(
      'SoftHSM2 is not installed (softhsm2-util / libsofthsm2.so not found). ' +
        'Install it: apt-get install -y softhsm2 (as .ci/run does), or set SOFTHSM2_LIB.',
    );
  }
  const dir = await tempDir('cosigner-softhsm-');
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(
    conf,
    `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  // SoftHSM2 reads this at C_Initialize, which happens at the first provider in this process.
  process.env['SOFTHSM2_CONF'] = conf;
  execFileSync(
    'softhsm2-util',
    [
      '--init-token',
      '--free',
      '--label',
      SOFTHSM_TOKEN,
      '--so-pin',
      '13579135',
      '--pin',
      SOFTHSM_PIN,
    ],
    { env: process.env, stdio: 'pipe' },
  );
  return { library, tokenLabel: SOFTHSM_TOKEN, pin: SOFTHSM_PIN, conf };
}
