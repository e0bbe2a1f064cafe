/**
 * Named secrets of the co-signer itself — its Ed25519 identity key, its X25519 key, its callback
 * signing key — sealed with AAD binding the name, so one secret cannot be served as another.
 * @module
 */
import { CosignerError } from '../errors.js';
import type { StoreContext } from './store-context.js';
import { assertBlob, assertId, blobOf, guarded } from './store-context.js';

/** Repository of named secrets. */
export class SecretRepository {
  readonly #c: StoreContext;

  /** @internal */
  constructor(context: StoreContext) {
    this.#c = context;
  }

  /** Stores a secret; refuses to overwrite one unless `replace` is set. */
  putSecret(name: string, value: Uint8Array, options: { replace?: boolean } = {}): void {
    assertId(name, 'name');
    assertBlob(value, 'value', 64 * 1024);
    guarded(this.#c, () => {
      const sealed = this.#c.sealer.seal('secret', [name], value);
      const sql =
        options.replace === true
          ? `INSERT INTO sealed_secrets (name, sealed_value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET sealed_value = excluded.sealed_value, updated_at = excluded.updated_at`
          : 'INSERT INTO sealed_secrets (name, sealed_value, updated_at) VALUES (?, ?, ?)';
      try {
        this.#c.db.prepare(sql).run(name, sealed, this.#c.now());
      } catch (e) {
        if ((e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new CosignerError('ERR_COSIGNER_CONFLICT', { detail: `secret ${name}`, cause: e });
        }
        throw e;
      }
    });
  }

  /** The secret, or undefined; the caller owns (and should zero) the bytes. */
  getSecret(name: string): Uint8Array | undefined {
    assertId(name, 'name');
    return guarded(this.#c, () => {
      const row = this.#c.db
        .prepare('SELECT sealed_value FROM sealed_secrets WHERE name = ?')
        .get(name) as { sealed_value: Uint8Array } | undefined;
      return row === undefined
        ? undefined
        : this.#c.sealer.open('secret', [name], blobOf(row.sealed_value));
    });
  }

  /** Deletes a secret; returns whether it existed. */
  deleteSecret(name: string): boolean {
    assertId(name, 'name');
    return guarded(
      this.#c,
      () => this.#c.db.prepare('DELETE FROM sealed_secrets WHERE name = ?').run(name).changes === 1,
    );
  }
}
