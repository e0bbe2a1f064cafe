/**
 * `countersign cloud-cosigner token --slot <1|2>`: mints the single-use token that registers one
 * of the operator's two cloud co-signers (ARCHITECTURE §1). Only whoever can open the platform's
 * database can mint one; the token is printed once and stored only as its hash.
 */
import { parseArgs } from 'node:util';
import { createServices, openDatabase } from '@countersign/platform';
import { databaseFlagHelp, databaseFlagOptions, databaseOptionsFrom } from '../database-flags.js';
import { ExitCode, UsageError } from '../exit-codes.js';

export const cloudCosignerHelp = `Usage: countersign cloud-cosigner token (--slot <1|2> | --sandbox) [--json] [database flags]

Mints a single-use operator pairing token (valid 1 hour) for cloud co-signer
slot 1 or 2. Give it to the cloud co-signer, which registers with it:

  cosigner setup --kms … --cloud
  cosigner pair --pairing-token-file <file> --platform-url <url>

With --sandbox the token registers the communal test co-signer of sandbox
workspaces instead (one per platform; an API co-signer set up without --cloud
and run with cosigner start --sandbox). See packages/platform/docs/sandbox.md.

Each slot takes one co-signer. The first workspace signer's key generation
starts once both slots are registered. With the embedded database (PGlite),
mint tokens while the platform is stopped: its data directory is locked while
it runs.

${databaseFlagHelp}`;

export async function cloudCosignerCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(cloudCosignerHelp);
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (sub !== 'token') throw new UsageError(`unknown cloud-cosigner command: ${sub}`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      slot: { type: 'string' },
      sandbox: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...databaseFlagOptions,
    },
  });
  if (values.help) {
    console.log(cloudCosignerHelp);
    return ExitCode.OK;
  }
  const slot = values.slot === '1' ? 1 : values.slot === '2' ? 2 : undefined;
  if (values.sandbox === true && values.slot !== undefined)
    throw new UsageError('give --slot or --sandbox, not both');
  const seat = values.sandbox === true ? ('sandbox' as const) : slot;
  if (seat === undefined) throw new UsageError('--slot must be 1 or 2 (or --sandbox)');
  const database = await openDatabase(databaseOptionsFrom(values));
  try {
    const { cloudCosigners } = createServices(database, { clockSkewSeconds: 0 });
    const { token, expiresAt } = await cloudCosigners.issueToken(seat);
    if (values.json)
      console.log(
        JSON.stringify({ slot: seat, pairingToken: token, expiresAt: expiresAt.getTime() }),
      );
    else
      console.log(`${seat === 'sandbox' ? 'Communal test co-signer pairing token' : `Cloud pairing token for slot ${seat}`} (single use, until ${expiresAt.toISOString()}):
${token}`);
    return ExitCode.OK;
  } finally {
    await database.close();
  }
}
