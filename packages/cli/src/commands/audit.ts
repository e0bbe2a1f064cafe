/** `countersign audit verify`: recomputes the audit hash chain and names the first broken entry. */
import { parseArgs } from 'node:util';
import { AuditLog, openDatabase } from '@countersign/platform';
import { databaseFlagHelp, databaseFlagOptions, databaseOptionsFrom } from '../database-flags.js';
import { ExitCode, UsageError } from '../exit-codes.js';

export const auditHelp = `Usage: countersign audit verify [--json] [database flags]

Reads the whole audit log in order and recomputes every entry's hash and its
link to the previous entry. Exits 0 when the chain is intact and 3 naming the
first entry that was altered, removed or reordered.

${databaseFlagHelp}`;

export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(auditHelp);
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (sub !== 'verify') throw new UsageError(`unknown audit command: ${sub}`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...databaseFlagOptions,
    },
  });
  if (values.help) {
    console.log(auditHelp);
    return ExitCode.OK;
  }
  const database = await openDatabase(databaseOptionsFrom(values));
  try {
    const progress = (n: number) => {
      if (!values.json && process.stderr.isTTY) process.stderr.write(`\rchecked ${n} entries`);
    };
    const result = await new AuditLog(database.db).verify(progress);
    if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
    if (values.json) {
      console.log(
        JSON.stringify({
          intact: result.broken === null,
          checked: result.checked,
          broken: result.broken,
          head: result.head,
        }),
      );
    } else if (result.broken) {
      console.log(
        `Audit chain BROKEN at entry seq ${result.broken.seq} (id ${result.broken.id}): ${result.broken.reason}. ${result.checked} entries before it are intact.`,
      );
    } else {
      console.log(`Audit chain intact: ${result.checked} entries verified.`);
      if (result.head) {
        console.log(
          `Head: seq ${result.head.seq}, hash ${result.head.hash}\n` +
            'Keep this line outside the database: a later run that ends before it reveals removed entries.',
        );
      }
    }
    return result.broken ? ExitCode.VERIFICATION_FAILED : ExitCode.OK;
  } finally {
    await database.close();
  }
}
