/**
 * Named prepared statements for PGlite. `PGlite.query` parses, plans and describes its text on
 * every call (an unnamed statement); the platform runs the same few dozen query texts over and
 * over, and on the relay's hot path that work was most of each query's cost. Here each text is
 * parsed and described once, as a named statement of the one PGlite backend; a call then only
 * binds its values and executes it (PostgreSQL keeps the plan, re-planning by its own rules).
 *
 * Only data statements are prepared (select, insert, update, delete, with): a schema change
 * (the migrations) could otherwise change a prepared statement's result type. Anything else,
 * and any text once the cache is full, goes through `PGlite.query` as before. Values are
 * serialized and rows parsed by PGlite's own serializers and parsers, by the types the
 * statement's description gave, as `query` does; but bytes are bound as they are (binary
 * format) rather than hex-encoded.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { parse, protocol, type PGlite } from '@electric-sql/pglite';

type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number];

/** What describing a prepared statement told: its parameter types and row shape. */
interface PreparedStatement {
  readonly name: string;
  readonly parameterTypes: readonly number[];
  /** The RowDescription message; none for a statement that returns no rows. */
  readonly rowDescription: BackendMessage | undefined;
}

/** Distinct texts prepared at most; the platform has far fewer (lists of ids vary in length). */
const MAX_PREPARED = 1000;
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const NO_SYNC = { syncToFs: false } as const;
const TRANSACTION_CONTROL = /^(begin( isolation level [a-z ]+)?|commit|rollback)$/;

export interface StatementResult<R> {
  readonly rows: R[];
  readonly affectedRows?: number;
}

export class PGliteStatements {
  private readonly prepared = new Map<string, PreparedStatement>();
  /**
   * PGlite's parsers, but bytea's: PGlite decodes the hex text one parseInt per byte, which for
   * an MPC message of hundreds of kilobytes took longer than the query; Buffer's decoder is native.
   */
  private readonly parsers: typeof this.pglite.parsers;
  /** Names are this object's own: another one (or another copy of this module) may share the PGlite. */
  private readonly namePrefix = `countersign_${randomBytes(6).toString('hex')}_`;
  private named = 0;

  constructor(
    private readonly pglite: PGlite,
    /** Distinct texts prepared at most; past it a new text runs through `PGlite.query`. */
    private readonly maxPrepared = MAX_PREPARED,
  ) {
    this.parsers = { ...pglite.parsers, [BYTEA]: parseBytea };
  }

  /** How many texts are prepared. */
  get size(): number {
    return this.prepared.size;
  }

  /** Runs `text` with `values`, prepared if it can be. */
  async run<R>(text: string, values: readonly unknown[]): Promise<StatementResult<R>> {
    if (
      !PREPARABLE.test(text) ||
      (this.prepared.size >= this.maxPrepared && !this.prepared.has(text))
    )
      return this.pglite.query<R>(text, [...values]);
    return this.pglite.runExclusive(async () => {
      // As PGlite.query: a closing or closed database answers with its error, runs nothing.
      await this.pglite._checkReady();
      const statement = this.prepared.get(text) ?? (await this.prepare(text));
      if (values.length !== statement.parameterTypes.length)
        throw new Error(
          `statement takes ${statement.parameterTypes.length} values, ${values.length} given`,
        );
      const messages: BackendMessage[] = [];
      try {
        const serialized = statement.parameterTypes.map((type, i) =>
          serialize(this.pglite, type, values[i]),
        );
        messages.push(
          ...(await this.send(
            protocol.serialize.bind({ statement: statement.name, values: serialized }),
          )),
          ...(await this.send(protocol.serialize.execute({}))),
        );
      } finally {
        // Ends the extended-protocol exchange, also after an error (the backend skips to it).
        await this.send(protocol.serialize.sync());
      }
      // As PGlite.query does after each statement (a no-op on the file systems used here).
      await this.pglite.syncToFs();
      const described =
        statement.rowDescription === undefined ? messages : [statement.rowDescription, ...messages];
      const [result] = parse.parseResults(described, this.parsers);
      return {
        rows: (result?.rows ?? []) as R[],
        ...(result?.affectedRows === undefined ? {} : { affectedRows: result.affectedRows }),
      };
    });
  }

  /**
   * Runs a transaction-control statement (`begin …`, `commit`, `rollback`) as one simple-protocol
   * message: `PGlite.query` would parse, describe and bind it like any query, several times the
   * work of the statement itself, and the platform runs two of them per transaction.
   */
  async control(text: string): Promise<void> {
    if (!TRANSACTION_CONTROL.test(text)) throw new Error(`not a transaction-control statement`);
    await this.pglite.runExclusive(async () => {
      await this.pglite._checkReady();
      await this.send(protocol.serialize.query(text));
      await this.pglite.syncToFs();
    });
  }

  /** Parses and describes `text` as a new named statement (not kept if either fails). */
  private async prepare(text: string): Promise<PreparedStatement> {
    this.named += 1;
    const name = `${this.namePrefix}${this.named}`;
    const messages: BackendMessage[] = [];
    let parsed = false;
    try {
      messages.push(...(await this.send(protocol.serialize.parse({ name, text, types: [] }))));
      parsed = true;
      messages.push(...(await this.send(protocol.serialize.describe({ type: 'S', name }))));
    } catch (error) {
      await this.send(protocol.serialize.sync());
      // A statement parsed but not described is not kept: drop it from the backend too.
      if (parsed) {
        await this.send(protocol.serialize.close({ type: 'S', name }));
        await this.send(protocol.serialize.sync());
      }
      throw error;
    }
    await this.send(protocol.serialize.sync());
    const statement: PreparedStatement = {
      name,
      parameterTypes: parse.parseDescribeStatementResults(messages),
      rowDescription: messages.find((m) => m.name === 'rowDescription'),
    };
    this.prepared.set(text, statement);
    return statement;
  }

  private send(message: Uint8Array): Promise<BackendMessage[]> {
    return this.pglite.execProtocolStream(message, NO_SYNC);
  }
}

/** PostgreSQL's type oid of bytea. */
const BYTEA = 17;

/** bytea's text output (hex format, `\\x…`, PostgreSQL's default) as bytes. */
function parseBytea(text: string): Uint8Array {
  if (!text.startsWith('\\x')) throw new Error('bytea not in hex format');
  return new Uint8Array(Buffer.from(text.slice(2), 'hex'));
}

/**
 * A value in PostgreSQL's text format, by PGlite's serializer for `type` (null stays null); a
 * type without one takes a primitive's text, as PGlite.query does, and refuses an object (whose
 * text would be "[object Object]").
 */
function serialize(pglite: PGlite, type: number, value: unknown): string | Uint8Array | null {
  if (value === null || value === undefined) return null;
  // Bytes go as they are (a binary-format parameter): an MPC message of hundreds of kilobytes
  // would otherwise be hex-encoded here and decoded again by the backend.
  if (type === BYTEA && value instanceof Uint8Array) return value;
  const serializer = pglite.serializers[type];
  if (serializer !== undefined) return serializer(value);
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return value.toString();
    default:
      throw new TypeError(`no serializer for a ${typeof value} of PostgreSQL type ${type}`);
  }
}
