/**
 * Approved amounts per asset over rolling windows, kept in one JSON file so that a restart does
 * not reset a window (a reset would let a thief drain a full cap again by crashing the handler).
 * Each change is written to a temporary file, fsynced and renamed over the old one, so the file
 * is always either the old or the new state. A missing file is an empty history; a damaged one
 * is an error, never silently replaced.
 *
 * One process per state file: decisions are serialized inside the process, not across processes.
 * @module
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

import { CallbackHandlerError } from '../errors.js';
import { addDecimal, formatDecimal, parseDecimal, ZERO, type Decimal } from './decimal.js';

const StateSchema = Type.Object(
  {
    version: Type.Literal(1),
    approvals: Type.Array(
      Type.Object(
        {
          asset: Type.String(),
          requestId: Type.String(),
          amount: Type.String({ pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$' }),
          /** Milliseconds since the epoch. */
          at: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type State = Static<typeof StateSchema>;
export type Approval = State['approvals'][number];

export const VELOCITY_STATE_FILE = 'velocity-state.json';

export class VelocityStore {
  readonly #file: string;
  #state: State;

  private constructor(file: string, state: State) {
    this.#file = file;
    this.#state = state;
  }

  static async open(stateDir: string): Promise<VelocityStore> {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const file = join(stateDir, VELOCITY_STATE_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return new VelocityStore(file, { version: 1, approvals: [] });
      }
      throw new CallbackHandlerError('ERR_CALLBACK_STATE', `${file}: cannot read`, {
        cause: error,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!Value.Check(StateSchema, json)) {
      throw new CallbackHandlerError(
        'ERR_CALLBACK_STATE',
        `${file}: damaged velocity state (refusing to start with an empty window; restore or remove it deliberately)`,
      );
    }
    return new VelocityStore(file, json);
  }

  /** Sum and count of approvals of `asset` after `sinceMs`, not counting `excludeRequestId`. */
  totals(
    asset: string,
    sinceMs: number,
    excludeRequestId: string,
  ): { amount: Decimal; count: number } {
    let amount = ZERO;
    let count = 0;
    for (const a of this.#state.approvals) {
      if (a.asset !== asset || a.at <= sinceMs || a.requestId === excludeRequestId) continue;
      amount = addDecimal(amount, parseDecimal(a.amount)!);
      count += 1;
    }
    return { amount, count };
  }

  /**
   * Records an approval (replacing an earlier approval of the same request, so a request asked
   * twice counts once), drops history older than `keepMs`, and persists before returning.
   */
  async record(
    approval: { asset: string; requestId: string; amount: Decimal; at: number },
    keepMs: number,
  ): Promise<void> {
    const approvals = this.#state.approvals.filter(
      (a) =>
        a.at > approval.at - keepMs &&
        !(a.asset === approval.asset && a.requestId === approval.requestId),
    );
    approvals.push({
      asset: approval.asset,
      requestId: approval.requestId,
      amount: formatDecimal(approval.amount),
      at: approval.at,
    });
    const next: State = { version: 1, approvals };
    await writeAtomically(this.#file, JSON.stringify(next));
    this.#state = next;
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  // The rename itself must survive a power cut: fsync the directory entry.
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
