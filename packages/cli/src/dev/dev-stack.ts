/**
 * The signing half of `countersign dev` (ARCHITECTURE §11): two Cloud Co-signers, one API
 * co-signer and the communal test co-signer of sandbox workspaces (platform docs/sandbox.md),
 * run inside the dev process by the co-signer library — the same code as `cosigner
 * setup/pair/start` — each with its own store under <home>/cosigners/<name>, talking to the
 * platform over HTTP on loopback. The API co-signer is paired to the SIGNER API user
 * "dev-signer"; the first run ends with both root keys made by KEYGEN, later runs reuse it all.
 * The communal co-signer serves whatever sandbox workspaces the database holds.
 */
import { join } from 'node:path';
import {
  isLoopbackHttp,
  movePlatform,
  pendingPairings,
  runDaemon,
  type DaemonLog,
} from '@countersign/cosigner';
import type { PlatformServices } from '@countersign/platform';
import { devPassphrase } from './dev-passphrase.js';
import { moveAside, openDevCosigner, type DevCosigner } from './dev-cosigner-home.js';
import {
  knownHere,
  pairSigner,
  registerOperatorCosigner,
  registrationOf,
  type OperatorSeat,
} from './dev-pairing.js';
import { devOwner, ensureDevSigner } from './dev-signer.js';
import { ROOT_KEY_ALGORITHMS, rootKeysOf, waitForRootKeys } from './root-keys.js';

/**
 * The co-signers of the embedded default: in roster order (cloud-1, cloud-2, the signer's), then
 * the communal test co-signer.
 */
const PARTIES = [
  { name: 'cloud-1', mode: 'cloud', seat: 1 },
  { name: 'cloud-2', mode: 'cloud', seat: 2 },
  { name: 'dev-api', mode: 'api', seat: undefined },
  { name: 'sandbox', mode: 'api', seat: 'sandbox' },
] as const;

/** Both DKGs on a slow machine take well under this; beyond it something is stuck. */
const KEYGEN_TIMEOUT_MS = 5 * 60_000;

export interface DevStackOptions {
  readonly services: PlatformServices;
  readonly home: string;
  readonly workspaceId: string;
  /** The platform as the co-signers reach it (loopback). */
  readonly platformUrl: string;
  /** Progress lines ("• …"). */
  readonly step: (message: string) => void;
  /** What the co-signers report while running. */
  readonly log: (line: string) => void;
}

export interface DevStack {
  /** Rejects, with the reason, if a co-signer stops on its own. */
  readonly stopped: Promise<never>;
  /** Resolves once both root keys exist (made now by KEYGEN, or by an earlier run). */
  rootKeys(): Promise<void>;
  /** Stops the co-signers (their jobs' leases expire and are offered again) and closes their stores. */
  stop(): Promise<void>;
}

/** Opens the co-signers, pairs what is not paired yet, and starts their daemons. */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const { services, home, workspaceId, platformUrl, step } = options;
  const { passphrase } = devPassphrase(home);
  const cosigners: DevCosigner[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of cosigners.splice(0)) await c.close();
  };
  try {
    step(
      `Opening the co-signer stores in ${join(home, 'cosigners')} (local KMS, development only)`,
    );
    // Opened together: a store's first opening makes its callback key (RSA) off the event loop,
    // so the four take about the time of two on the 2-core machines, not of four.
    const opened = await Promise.allSettled(
      PARTIES.map((party) => openCurrent(options, party.name, party.mode, party.seat, passphrase)),
    );
    for (const r of opened) if (r.status === 'fulfilled') cosigners.push(r.value);
    const failed = opened.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) throw new AggregateError(failed, 'co-signer stores failed to open');
    // Seats by position below: every store opened, in PARTIES order.
    const api = cosigners[2]!;
    // The clouds first: a sandbox signer waiting for the communal co-signer starts KEYGEN at once.
    for (const [i, party] of PARTIES.entries()) {
      const cosigner = cosigners[i]!;
      if (party.seat === undefined || registrationOf(cosigner.store) !== undefined) continue;
      step(
        party.seat === 'sandbox'
          ? `Registering ${cosigner.name} as the communal test co-signer of sandbox workspaces`
          : `Registering ${cosigner.name} as cloud co-signer ${party.seat}`,
      );
      await registerOperatorCosigner(services, cosigner, party.seat, platformUrl);
    }
    const owner = await devOwner(services.database, workspaceId);
    const signerId = await ensureDevSigner(services, owner, home);
    if (api.store.pairedApiKeys.getPairedApiKey(signerId) === undefined) {
      step('Pairing the API co-signer with the SIGNER API user dev-signer (approved as the Owner)');
      await pairSigner(services, api, owner, signerId, platformUrl);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  const abort = new AbortController();
  const daemons = cosigners.map((c, i) =>
    runDaemon({
      store: c.store,
      mode: c.mode,
      sandbox: PARTIES[i]!.seat === 'sandbox',
      // dev runs the platform in this very process: the dealer's guard against a platform that
      // forges an Owner's approval protects nothing here, and a second signer paired to dev
      // (to try high availability) would otherwise never get its share sets.
      approvePairingsWithoutHandler: c.mode === 'api',
      // The platform in this process stops with them: nobody is left to route work elsewhere,
      // and the announcement's keep-alive connection would hold the server's close (72 s).
      announceStop: false,
      signal: abort.signal,
      log: daemonLog(c.name, options.log),
    }),
  );
  const stopped = new Promise<never>((_, reject) => {
    daemons.forEach((daemon, i) => {
      const name = cosigners[i]!.name;
      daemon.then(
        () => {
          if (!abort.signal.aborted) reject(new Error(`co-signer ${name} stopped`));
        },
        (error: unknown) => reject(new Error(`co-signer ${name} stopped: ${describe(error)}`)),
      );
    });
  });
  // Whoever needs it awaits `stopped`; an unobserved rejection must not end the process.
  stopped.catch(() => undefined);
  return {
    stopped,
    stop: async () => {
      abort.abort();
      await Promise.allSettled(daemons);
      await closeAll();
    },
    rootKeys: async () => {
      const have = await rootKeysOf(services.database, workspaceId);
      if (have.length === ROOT_KEY_ALGORITHMS.length) {
        // A co-signer that could not start at all (another daemon holds its store) has failed
        // by now: say so before announcing a stack that cannot sign.
        await Promise.race([stopped, Promise.resolve()]);
        step('Reusing the root keys (secp256k1 and Ed25519)');
        return;
      }
      step('Generating root keys (secp256k1 and Ed25519) … the first run takes a minute or so');
      const started = Date.now();
      await waitForRootKeys(services.database, workspaceId, {
        timeoutMs: KEYGEN_TIMEOUT_MS,
        abandoned: stopped,
      });
      step(`Root keys ready in ${Math.round((Date.now() - started) / 1000)} s`);
    },
  };
}

/**
 * Opens a co-signer and checks it belongs to this platform: a store registered with a co-signer
 * the database does not know (the database was removed, the store kept) is moved aside and made
 * again; one registered at another address of this platform (dev restarted on another --port)
 * is moved to the current one.
 */
async function openCurrent(
  options: DevStackOptions,
  name: string,
  mode: 'api' | 'cloud',
  seat: OperatorSeat | undefined,
  passphrase: string,
): Promise<DevCosigner> {
  const { services, home, workspaceId, platformUrl, step } = options;
  const cosigner = await openDevCosigner(home, name, mode, passphrase, step);
  // Registered, or (a run stopped while its pairing waited for the Owner) about to be.
  const registration = registrationOf(cosigner.store) ?? pendingPairings(cosigner.store)[0];
  if (registration === undefined) return cosigner;
  if (!(await knownHere(services, seat, registration.cosignerId, workspaceId))) {
    await cosigner.close();
    step(`${name}: its store belongs to an earlier database; moved to ${moveAside(cosigner.dir)}`);
    return openDevCosigner(home, name, mode, passphrase, step);
  }
  const here = new URL(platformUrl).href.replace(/\/$/, '');
  if (registration.platformUrl !== here) {
    // The same platform (it knows this co-signer) on another port: the co-signer follows it.
    // Only from loopback, where dev pairs: a store registered anywhere else is not dev's.
    if (!isLoopbackHttp(new URL(registration.platformUrl))) {
      await cosigner.close();
      throw new Error(
        `the co-signer in ${cosigner.dir} is paired with the platform at ` +
          `${registration.platformUrl}, not a development platform; move it away to start over`,
      );
    }
    try {
      await movePlatform(cosigner.store, here);
    } catch (error) {
      await cosigner.close();
      throw new Error(
        `co-signer ${name} cannot follow the platform to ${here}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    step(`${name}: was paired at ${registration.platformUrl}; now uses ${here}`);
  }
  return cosigner;
}

/**
 * The co-signers' job outcomes and warnings, one line each; routine polling stays quiet, and so
 * does the presignature pool's background work (a PRESIGN job is shown only if it fails).
 */
function daemonLog(name: string, write: (line: string) => void): DaemonLog {
  const line = (message: string, fields: Record<string, unknown> = {}): void => {
    const detail = ['type', 'algorithm', 'reason', 'error']
      .map((k) => fields[k])
      .filter((v) => typeof v === 'string')
      .join(' ');
    write(`  [${name}] ${message}${detail ? `: ${detail}` : ''}`);
  };
  return {
    info: (message, fields) => {
      if (message === 'job done' && fields?.['type'] !== 'PRESIGN') line(message, fields);
    },
    warn: line,
  };
}

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  return [e.code, e.message].filter((v) => typeof v === 'string').join(': ') || String(error);
}
