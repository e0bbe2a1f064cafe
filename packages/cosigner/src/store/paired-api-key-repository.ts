/**
 * API users paired to this co-signer (ARCHITECTURE.md §5): which platform, which co-signer id,
 * the rotating refresh token (sealed, AAD = API key id) and the Callback Handler settings.
 * Unpairing keeps the row as a record but erases the refresh token.
 * @module
 */
import { CosignerError } from '../errors.js';
import { utf8 } from '../kms/bytes.js';
import type { StoreContext } from './store-context.js';
import { assertId, blobOf, guarded } from './store-context.js';

/** A paired API key, without its refresh token. */
export interface PairedApiKeyRecord {
  readonly apiKeyId: string;
  readonly cosignerId: string;
  readonly platformUrl: string;
  /**
   * Callback Handler settings (shape owned by the callback module): null only when none is set
   * (SQL NULL); the parsed JSON object otherwise. Stored text that is not a JSON object (not
   * JSON, JSON `null`, an array…) comes back as that text, which the callback module refuses
   * (CALLBACK_CONFIG_INVALID): damaged settings never read as "no handler", nor throw.
   */
  readonly callbackHandler: unknown;
  readonly hasRefreshToken: boolean;
  readonly pairedAt: number;
  readonly unpairedAt: number | null;
}

interface Row {
  api_key_id: string;
  cosigner_id: string;
  platform_url: string;
  sealed_refresh_token: Uint8Array | null;
  callback_handler: string | null;
  paired_at: number;
  unpaired_at: number | null;
}

function recordOf(row: Row): PairedApiKeyRecord {
  return {
    apiKeyId: row.api_key_id,
    cosignerId: row.cosigner_id,
    platformUrl: row.platform_url,
    callbackHandler: row.callback_handler === null ? null : callbackOf(row.callback_handler),
    hasRefreshToken: row.sealed_refresh_token !== null,
    pairedAt: row.paired_at,
    unpairedAt: row.unpaired_at,
  };
}

function assertUrl(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length > 2048 || !URL.canParse(value)) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'platformUrl must be a URL',
    });
  }
}

function assertToken(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 8192) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'refresh token' });
  }
}

function callbackOf(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : text;
  } catch {
    return text;
  }
}

function isJsonObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** SQL NULL only for an explicit null (or absent); anything else must be a JSON object. */
function callbackJson(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  // Checked after serialising: NaN, or an object whose toJSON() gives null, would otherwise be
  // stored as the text `null` (review 2026-11-27 F8).
  const text: unknown = isJsonObject(value) ? JSON.stringify(value) : undefined;
  if (typeof text !== 'string' || !isJsonObject(JSON.parse(text))) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'callbackHandler must be a JSON object or null',
    });
  }
  if (text.length > 64 * 1024) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'callbackHandler too large',
    });
  }
  return text;
}

/** Repository of paired API keys. */
export class PairedApiKeyRepository {
  readonly #c: StoreContext;

  /** @internal */
  constructor(context: StoreContext) {
    this.#c = context;
  }

  /** Records a new pairing. */
  addPairedApiKey(input: {
    apiKeyId: string;
    cosignerId: string;
    platformUrl: string;
    refreshToken?: string;
    callbackHandler?: unknown;
  }): PairedApiKeyRecord {
    assertId(input.apiKeyId, 'apiKeyId');
    assertId(input.cosignerId, 'cosignerId');
    assertUrl(input.platformUrl);
    if (input.refreshToken !== undefined) assertToken(input.refreshToken);
    const handler = callbackJson(input.callbackHandler);
    return guarded(this.#c, () => {
      const sealed =
        input.refreshToken === undefined
          ? null
          : this.#c.sealer.seal('refresh-token', [input.apiKeyId], utf8(input.refreshToken));
      this.#c.db
        .prepare(
          `INSERT INTO paired_api_keys
             (api_key_id, cosigner_id, platform_url, sealed_refresh_token, callback_handler, paired_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(input.apiKeyId, input.cosignerId, input.platformUrl, sealed, handler, this.#c.now());
      return this.#get(input.apiKeyId);
    });
  }

  /** The pairing of `apiKeyId`, or undefined. */
  getPairedApiKey(apiKeyId: string): PairedApiKeyRecord | undefined {
    assertId(apiKeyId, 'apiKeyId');
    return guarded(this.#c, () => {
      const row = this.#c.db
        .prepare('SELECT * FROM paired_api_keys WHERE api_key_id = ?')
        .get(apiKeyId) as Row | undefined;
      return row === undefined ? undefined : recordOf(row);
    });
  }

  /** Pairings, oldest first; unpaired ones only when asked. */
  listPairedApiKeys(options: { includeUnpaired?: boolean } = {}): PairedApiKeyRecord[] {
    return guarded(this.#c, () => {
      const rows = this.#c.db
        .prepare(
          `SELECT * FROM paired_api_keys WHERE (? = 1 OR unpaired_at IS NULL) ORDER BY paired_at, api_key_id`,
        )
        .all(options.includeUnpaired === true ? 1 : 0) as Row[];
      return rows.map(recordOf);
    });
  }

  /** Replaces the refresh token (tokens rotate on every use). */
  setRefreshToken(apiKeyId: string, refreshToken: string): void {
    assertId(apiKeyId, 'apiKeyId');
    assertToken(refreshToken);
    guarded(this.#c, () => {
      const sealed = this.#c.sealer.seal('refresh-token', [apiKeyId], utf8(refreshToken));
      this.#changeOne(
        this.#c.db
          .prepare(
            'UPDATE paired_api_keys SET sealed_refresh_token = ? WHERE api_key_id = ? AND unpaired_at IS NULL',
          )
          .run(sealed, apiKeyId).changes,
        apiKeyId,
      );
    });
  }

  /** Records that the platform every pairing at `from` was made with now answers at `to`. */
  movePlatform(from: string, to: string): void {
    assertUrl(from);
    assertUrl(to);
    guarded(this.#c, () => {
      this.#c.db
        .prepare('UPDATE paired_api_keys SET platform_url = ? WHERE platform_url = ?')
        .run(to, from);
    });
  }

  /** The current refresh token, or undefined if none is stored. */
  readRefreshToken(apiKeyId: string): string | undefined {
    assertId(apiKeyId, 'apiKeyId');
    return guarded(this.#c, () => {
      const row = this.#c.db
        .prepare('SELECT sealed_refresh_token FROM paired_api_keys WHERE api_key_id = ?')
        .get(apiKeyId) as { sealed_refresh_token: Uint8Array | null } | undefined;
      if (row === undefined || row.sealed_refresh_token === null) return undefined;
      const bytes = this.#c.sealer.open(
        'refresh-token',
        [apiKeyId],
        blobOf(row.sealed_refresh_token),
      );
      const token = new TextDecoder().decode(bytes);
      bytes.fill(0);
      return token;
    });
  }

  /** Sets or clears (null) the Callback Handler settings. */
  setCallbackHandler(apiKeyId: string, callbackHandler: unknown): void {
    assertId(apiKeyId, 'apiKeyId');
    const handler = callbackJson(callbackHandler);
    guarded(this.#c, () => {
      this.#changeOne(
        this.#c.db
          .prepare('UPDATE paired_api_keys SET callback_handler = ? WHERE api_key_id = ?')
          .run(handler, apiKeyId).changes,
        apiKeyId,
      );
    });
  }

  /** Marks a pairing ended and erases its refresh token. */
  markUnpaired(apiKeyId: string): void {
    assertId(apiKeyId, 'apiKeyId');
    guarded(this.#c, () => {
      this.#changeOne(
        this.#c.db
          .prepare(
            `UPDATE paired_api_keys SET sealed_refresh_token = NULL, unpaired_at = ?
             WHERE api_key_id = ? AND unpaired_at IS NULL`,
          )
          .run(this.#c.now(), apiKeyId).changes,
        apiKeyId,
      );
    });
  }

  #get(apiKeyId: string): PairedApiKeyRecord {
    const record = this.getPairedApiKey(apiKeyId);
    if (record === undefined)
      throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `API key ${apiKeyId}` });
    return record;
  }

  #changeOne(changes: number, apiKeyId: string): void {
    if (changes !== 1)
      throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `API key ${apiKeyId}` });
  }
}
