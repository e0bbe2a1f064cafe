/**
 * Random secrets the platform makes for itself and keeps in its database, so
 * every instance on one database shares them without configuration. The first
 * instance to ask creates one; concurrent creators agree on the stored value.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export class PlatformSecrets {
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The 32-byte secret named `name`, created on first use. Inside a database transaction pass
   * it as `trx`: a connection-bound database (PGlite) would otherwise wait on itself. What is
   * read through a transaction is not cached (a creation it rolls back must not be remembered).
   */
  get(name: string, trx?: Kysely<Database>): Promise<Buffer> {
    if (trx !== undefined) return this.load(name, trx);
    let secret = this.cache.get(name);
    if (!secret) {
      secret = this.load(name);
      // A failed load (database down) is retried on the next call, not cached.
      secret.catch(() => this.cache.delete(name));
      this.cache.set(name, secret);
    }
    return secret;
  }

  private async load(name: string, db: Kysely<Database> = this.db): Promise<Buffer> {
    await db
      .insertInto('platform_secrets')
      .values({ name, secret_hex: randomBytes(32).toString('hex') })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db
      .selectFrom('platform_secrets')
      .select('secret_hex')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return Buffer.from(row.secret_hex, 'hex');
  }
}
