/** `cosigner status`: what this co-signer is, what it holds, and to whom it is paired. */
import { parseArgs } from 'node:util';

import { storedPublicKeys } from '../../identity/stored-identity.js';
import { platformRegistration } from '../../platform/platform-credentials.js';
import { ExitCode } from '../exit-codes.js';
import { shareSetPublicMetaKey } from '../../daemon/keygen-job.js';
import { hex, json, table } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { kmsWarnings } from '../kms-config.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner status [--json] [options]

Opens the store (which checks the KMS key) and prints the co-signer's name, mode,
KMS provider, identity key, paired API keys, share sets and presignature pools.

Options:
${OPEN_HELP}
  --json                   print JSON`;

export async function statusCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { ...OPEN_FLAGS, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const home = cosignerHome(values.home, io.env);
  const status = await withCosigner(home, values, io.env, ({ config, kms, store }) => {
    const { identityKey } = storedPublicKeys(store);
    const shareSets = store.shareSets.listShareSets().map((s) => ({
      id: s.id,
      apiKeyId: s.apiKeyId,
      algorithm: s.algorithm,
      version: s.version,
      // Public values the daemon recorded beside the share at key generation.
      ...publicPartOf(store.getMeta(shareSetPublicMetaKey(s.id))),
      availablePresignatures: store.presignatures.countAvailablePresignatures(s.id),
      // The party indices every later roster of it must seat as pinned; null: stored before
      // store schema 4, not pinned (docs/store.md "Pinned parties").
      pinnedParties: store.shareSets.pinnedParties(s.id)?.map((p) => p.index) ?? null,
    }));
    const pairedApiKeys = store.pairedApiKeys.listPairedApiKeys().map((p) => ({
      apiKeyId: p.apiKeyId,
      cosignerId: p.cosignerId,
      platformUrl: p.platformUrl,
      pairedAt: new Date(p.pairedAt).toISOString(),
    }));
    return {
      home: home.dir,
      name: config.name,
      mode: config.mode,
      kms: kms.describe(),
      warnings: kmsWarnings(kms),
      storeId: store.storeId,
      identityKey: hex(identityKey),
      restoredAt: store.getMeta('restored_at') ?? null,
      restoredFromBackupAt: store.getMeta('restored_from_backup_at') ?? null,
      platform: platformRegistration(store) ?? null,
      pairedApiKeys,
      shareSets,
    };
  });
  for (const warning of status.warnings) io.stderr(`cosigner: warning: ${warning}\n`);
  if (values.json === true) {
    io.stdout(json(status));
    return ExitCode.OK;
  }
  io.stdout(
    table([
      ['name', status.name],
      ['mode', status.mode === 'api' ? 'API co-signer' : 'Cloud Co-signer'],
      ['home', status.home],
      ['KMS', status.kms],
      ['store', status.storeId],
      ['identity key', status.identityKey],
      [
        'platform',
        status.platform === null
          ? 'not paired'
          : `${status.platform.platformUrl} (co-signer ${status.platform.cosignerId})`,
      ],
      ...(status.restoredAt === null ? [] : [['restored at', status.restoredAt] as const]),
      ...(status.restoredFromBackupAt === null
        ? []
        : [['restored from a backup of', status.restoredFromBackupAt] as const]),
      ['paired API keys', String(status.pairedApiKeys.length)],
      ['share sets', String(status.shareSets.length)],
    ]),
  );
  for (const p of status.pairedApiKeys) {
    io.stdout(`  - API key ${p.apiKeyId} (co-signer ${p.cosignerId} at ${p.platformUrl})\n`);
  }
  for (const s of status.shareSets) {
    io.stdout(
      `  - share set ${s.id}: ${s.algorithm} v${s.version} for ${s.apiKeyId}, ` +
        `${s.availablePresignatures} presignatures ready, ` +
        `${s.pinnedParties === null ? 'parties not pinned' : `parties ${s.pinnedParties.join(', ')} pinned`}\n`,
    );
  }
  return ExitCode.OK;
}

function publicPartOf(meta: string | undefined): { publicKey?: string; chainCode?: string } {
  if (meta === undefined) return {};
  const v = JSON.parse(meta) as { publicKey?: unknown; chainCode?: unknown };
  return {
    ...(typeof v.publicKey === 'string' ? { publicKey: v.publicKey } : {}),
    ...(typeof v.chainCode === 'string' ? { chainCode: v.chainCode } : {}),
  };
}
