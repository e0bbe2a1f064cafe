/**
 * `pkcs11` KMS provider: any HSM reachable through a PKCS#11 module (PKCS#11 v2.40), tested
 * against SoftHSM2. Binding: `pkcs11js` (docs/decisions/0003-pkcs11-binding.md).
 *
 * The data key is encrypted inside the HSM with an AES-256 key that never leaves it
 * (CKA_SENSITIVE, not CKA_EXTRACTABLE; a key without those attributes is refused), using
 * CKM_AES_GCM (PKCS#11 v2.40 §2.10.4) with a fresh 96-bit IV, a 128-bit tag and AAD binding the
 * provider id and the wrap format version. Each operation opens a session, logs in, works and
 * logs out, so no authenticated session outlives the call. PKCS#11 calls are synchronous in the
 * binding; they are short (one 32-byte block) so this does not matter.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

import type * as Pkcs11 from 'pkcs11js';

import { CosignerError, decryptionFailed } from '../errors.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES } from './aes-256-gcm.js';
import { astring, fromBase64, toBase64, zeroize } from './bytes.js';
import type { KmsProvider, WrappedKey } from './kms-provider.js';
import { WRAPPED_KEY_FORMAT, assertDataKey, assertWrappedBy, wrapAad } from './kms-provider.js';

// pkcs11js is CommonJS without named-export hints and its typings have no default export.
const pkcs11js = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11;

/** Provider id of this module. */
export const PKCS11_KMS_ID = 'pkcs11';

/** Options of {@link openPkcs11Kms} and {@link createPkcs11Key}. */
export interface Pkcs11KmsOptions {
  /** Path of the PKCS#11 module (for SoftHSM2: `/usr/lib/softhsm/libsofthsm2.so`). */
  readonly library: string;
  /** Label of the token holding the key. */
  readonly tokenLabel: string;
  /** User PIN of the token. */
  readonly pin: string;
  /** CKA_LABEL of the AES key. */
  readonly keyLabel: string;
}

type Handle = Buffer;

/** Libraries are initialised once per process and finalised when their last provider closes. */
const libraries = new Map<string, { module: Pkcs11.PKCS11; users: number }>();

function acquireLibrary(path: string): Pkcs11.PKCS11 {
  const known = libraries.get(path);
  if (known !== undefined) {
    known.users += 1;
    return known.module;
  }
  const module = new pkcs11js.PKCS11();
  try {
    module.load(path);
  } catch (e) {
    throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
      detail: 'cannot load the PKCS#11 library',
      cause: e,
    });
  }
  try {
    module.C_Initialize();
  } catch (e) {
    if (ckr(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw mapPkcs11Error(e, 'initialize');
  }
  libraries.set(path, { module, users: 1 });
  return module;
}

function releaseLibrary(path: string): void {
  const known = libraries.get(path);
  if (known === undefined) return;
  known.users -= 1;
  if (known.users > 0) return;
  libraries.delete(path);
  try {
    known.module.C_Finalize();
  } catch {
    // Finalising is best effort: the process may be exiting anyway.
  }
}

/**
 * Generates the wrapping key in the token (AES-256, token object, private, sensitive,
 * non-extractable, encrypt/decrypt only) and returns a provider for it. Refuses a label in use.
 */
export function createPkcs11Key(options: Pkcs11KmsOptions): Promise<Pkcs11KmsProvider> {
  return settle(() => {
    const provider = new Pkcs11KmsProvider(options);
    try {
      provider.withSession((module, session) => {
        if (findKeys(module, session, options.keyLabel).length > 0) {
          throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
            detail: `a key labelled "${options.keyLabel}" already exists in the token`,
          });
        }
        module.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
          { type: pkcs11js.CKA_LABEL, value: options.keyLabel },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_ENCRYPT, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: true },
          { type: pkcs11js.CKA_WRAP, value: false },
          { type: pkcs11js.CKA_UNWRAP, value: false },
        ]);
      });
    } catch (e) {
      provider.closeSync();
      throw e;
    }
    return provider;
  });
}

/** Opens a provider on an existing key; checks the PIN, the token and the key at once. */
export function openPkcs11Kms(options: Pkcs11KmsOptions): Promise<Pkcs11KmsProvider> {
  return settle(() => {
    const provider = new Pkcs11KmsProvider(options);
    try {
      provider.withSession((module, session) => {
        findKey(module, session, options.keyLabel);
      });
    } catch (e) {
      provider.closeSync();
      throw e;
    }
    return provider;
  });
}

/** The `pkcs11` provider; see the module comment. */
export class Pkcs11KmsProvider implements KmsProvider {
  readonly id = PKCS11_KMS_ID;
  readonly #options: Pkcs11KmsOptions;
  #module: Pkcs11.PKCS11 | undefined;

  /** @internal Use {@link openPkcs11Kms} or {@link createPkcs11Key}. */
  constructor(options: Pkcs11KmsOptions) {
    astring(options.library, 'library', 4096);
    astring(options.tokenLabel, 'tokenLabel', 32);
    astring(options.pin, 'pin', 256);
    astring(options.keyLabel, 'keyLabel', 256);
    this.#options = { ...options };
    this.#module = acquireLibrary(options.library);
  }

  describe(): string {
    return `PKCS#11 token "${this.#options.tokenLabel}", key "${this.#options.keyLabel}"`;
  }

  wrapKey(dataKey: Uint8Array): Promise<WrappedKey> {
    return settle(() => {
      assertDataKey(dataKey);
      const iv = new Uint8Array(randomBytes(GCM_IV_BYTES));
      const ciphertext = this.withSession((module, session) => {
        const key = findKey(module, session, this.#options.keyLabel);
        module.C_EncryptInit(session, gcm(iv), key);
        const out = Buffer.alloc(dataKey.length + GCM_TAG_BYTES);
        const input = Buffer.from(dataKey);
        try {
          return Uint8Array.from(module.C_Encrypt(session, input, out));
        } finally {
          zeroize(input);
        }
      });
      return {
        format: WRAPPED_KEY_FORMAT,
        provider: this.id,
        keyId: this.#options.keyLabel,
        params: { mechanism: 'CKM_AES_GCM', iv: toBase64(iv) },
        ciphertext: toBase64(ciphertext),
      };
    });
  }

  unwrapKey(wrapped: WrappedKey): Promise<Uint8Array> {
    return settle(() => {
      assertWrappedBy(wrapped, this.id);
      if (wrapped.keyId !== this.#options.keyLabel) {
        throw new CosignerError('ERR_COSIGNER_KMS_KEY_MISMATCH', {
          detail: `wrapped by HSM key "${wrapped.keyId}", configured "${this.#options.keyLabel}"`,
        });
      }
      const iv = fromBase64(wrapped.params['iv']);
      const ciphertext = fromBase64(wrapped.ciphertext);
      if (
        wrapped.params['mechanism'] !== 'CKM_AES_GCM' ||
        iv === undefined ||
        iv.length !== GCM_IV_BYTES ||
        ciphertext === undefined ||
        ciphertext.length !== 32 + GCM_TAG_BYTES
      ) {
        throw decryptionFailed();
      }
      const dataKey = this.withSession((module, session) => {
        const key = findKey(module, session, this.#options.keyLabel);
        module.C_DecryptInit(session, gcm(iv), key);
        const out = Buffer.alloc(ciphertext.length);
        let plain: Buffer | undefined;
        try {
          plain = module.C_Decrypt(session, Buffer.from(ciphertext), out);
        } catch (e) {
          // SoftHSM2 reports a bad tag as CKR_GENERAL_ERROR, others as CKR_ENCRYPTED_DATA_INVALID.
          throw decryptionFailed(e);
        }
        const result = Uint8Array.from(plain);
        zeroize(out, plain);
        return result;
      });
      assertDataKey(dataKey);
      return dataKey;
    });
  }

  close(): Promise<void> {
    this.closeSync();
    return Promise.resolve();
  }

  /** @internal */
  closeSync(): void {
    if (this.#module === undefined) return;
    this.#module = undefined;
    releaseLibrary(this.#options.library);
  }

  /** @internal Runs `work` in a fresh logged-in session, always logging out and closing it. */
  withSession<T>(work: (module: Pkcs11.PKCS11, session: Handle) => T): T {
    const module = this.#module;
    if (module === undefined) {
      throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', { detail: 'provider closed' });
    }
    const slot = findSlot(module, this.#options.tokenLabel);
    let session: Handle;
    try {
      session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    } catch (e) {
      throw mapPkcs11Error(e, 'open session');
    }
    let loggedIn = false;
    try {
      try {
        module.C_Login(session, pkcs11js.CKU_USER, this.#options.pin);
        loggedIn = true;
      } catch (e) {
        // Another session of this process is logged in to the token: the PIN was checked then.
        if (ckr(e) === 'CKR_USER_ALREADY_LOGGED_IN') loggedIn = true;
        else throw mapPkcs11Error(e, 'login');
      }
      try {
        return work(module, session);
      } catch (e) {
        if (e instanceof CosignerError) throw e;
        throw mapPkcs11Error(e, 'operation');
      }
    } finally {
      if (loggedIn) {
        try {
          module.C_Logout(session);
        } catch {
          // Logging out fails only if the session is gone, which closing covers.
        }
      }
      try {
        module.C_CloseSession(session);
      } catch {
        // Nothing left to release.
      }
    }
  }
}

/** Runs synchronous `work` as a promise: a throw becomes a rejection. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(work());
  });
}

function gcm(iv: Uint8Array): Pkcs11.Mechanism {
  const parameter: Pkcs11.AesGCM = {
    type: pkcs11js.CK_PARAMS_AES_GCM,
    iv: Buffer.from(iv),
    aad: Buffer.from(wrapAad(PKCS11_KMS_ID)),
    ivBits: GCM_IV_BYTES * 8,
    tagBits: GCM_TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

function findSlot(module: Pkcs11.PKCS11, tokenLabel: string): Handle {
  let slots: Handle[];
  try {
    slots = module.C_GetSlotList(true);
  } catch (e) {
    throw mapPkcs11Error(e, 'list slots');
  }
  for (const slot of slots) {
    try {
      if (module.C_GetTokenInfo(slot).label.trim() === tokenLabel) return slot;
    } catch {
      // A slot whose token went away is not ours.
    }
  }
  throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
    detail: `no PKCS#11 token labelled "${tokenLabel}"`,
  });
}

function findKeys(module: Pkcs11.PKCS11, session: Handle, label: string): Handle[] {
  module.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    return module.C_FindObjects(session, 2);
  } finally {
    module.C_FindObjectsFinal(session);
  }
}

function findKey(module: Pkcs11.PKCS11, session: Handle, label: string): Handle {
  const keys = findKeys(module, session, label);
  const key = keys[0];
  if (key === undefined || keys.length > 1) {
    throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
      detail:
        key === undefined
          ? `no AES key labelled "${label}" in the token`
          : `several AES keys labelled "${label}" in the token`,
    });
  }
  const [sensitive, extractable, valueLen] = module.C_GetAttributeValue(session, key, [
    { type: pkcs11js.CKA_SENSITIVE },
    { type: pkcs11js.CKA_EXTRACTABLE },
    { type: pkcs11js.CKA_VALUE_LEN },
  ]);
  if (!isTrue(sensitive?.value) || isTrue(extractable?.value) || !isLen32(valueLen?.value)) {
    throw new CosignerError('ERR_COSIGNER_KMS_CONFIG', {
      detail: `key "${label}" must be a sensitive, non-extractable AES-256 key`,
    });
  }
  return key;
}

function isTrue(value: unknown): boolean {
  return Buffer.isBuffer(value) ? value.length === 1 && value[0] === 1 : value === true;
}

function isLen32(value: unknown): boolean {
  if (!Buffer.isBuffer(value)) return value === 32;
  // CK_ULONG in host byte order, 4 or 8 bytes.
  return value.length >= 4 && value.readUIntLE(0, Math.min(value.length, 6)) === 32;
}

function ckr(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  return /\b(CKR_[A-Z_]+)/.exec(e.message)?.[1];
}

function mapPkcs11Error(e: unknown, what: string): CosignerError {
  const name = ckr(e);
  switch (name) {
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_INVALID':
    case 'CKR_PIN_LEN_RANGE':
    case 'CKR_PIN_EXPIRED':
    case 'CKR_PIN_LOCKED':
    case 'CKR_USER_PIN_NOT_INITIALIZED':
      return new CosignerError('ERR_COSIGNER_KMS_AUTH', { detail: `PKCS#11 ${name}`, cause: e });
    case 'CKR_DEVICE_REMOVED':
    case 'CKR_TOKEN_NOT_PRESENT':
    case 'CKR_DEVICE_ERROR':
      return new CosignerError('ERR_COSIGNER_KMS_UNAVAILABLE', {
        detail: `PKCS#11 ${name}`,
        cause: e,
      });
    default:
      return new CosignerError('ERR_COSIGNER_KMS_REFUSED', {
        detail: `PKCS#11 ${what}${name === undefined ? '' : ` ${name}`}`,
        cause: e,
      });
  }
}
