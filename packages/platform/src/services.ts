/**
 * The platform's services, built once per app from one database handle.
 * Routes reach them through `app.services`.
 */
import type { Transaction } from 'kysely';
import { ApiUserRepository } from './api-users/api-user-repository.js';
import { ApiUserService } from './api-users/api-user-service.js';
import { ApprovalRequestRepository } from './approvals/approval-request-repository.js';
import { ApprovalService } from './approvals/approval-service.js';
import { loadAssetCatalog, type AssetCatalog } from './assets/asset-catalog.js';
import { AuditLog } from './audit/audit-log.js';
import { NonceStore } from './auth/nonce-store.js';
import { RequestAuthenticator } from './auth/request-authenticator.js';
import { systemClock, type Clock } from './clock.js';
import type { PlatformConfig } from './config.js';
import { cosignerApprovalKinds } from './cosigners/cosigner-approvals.js';
import { CosignerRepository } from './cosigners/cosigner-repository.js';
import { CosignerSelfService } from './cosigners/cosigner-self-service.js';
import { CosignerService } from './cosigners/cosigner-service.js';
import { CosignerTokenService } from './cosigners/cosigner-token-service.js';
import { CosignerRecovery } from './cosigners/cosigner-recovery.js';
import { PairingPolls } from './cosigners/pairing-polls.js';
import { PairingService } from './cosigners/pairing-service.js';
import { PlatformSecrets } from './cosigners/platform-secrets.js';
import { SandboxPairing } from './cosigners/sandbox-pairing.js';
import type { PlatformDatabase } from './db/connect.js';
import type { Database } from './db/schema.js';
import { PlatformAuthorizationKey } from './mpc/authorization-key.js';
import { CosignerJobService } from './mpc/cosigner-job-service.js';
import { KeygenOrchestrator } from './mpc/keygen-orchestrator.js';
import { PresignaturePool } from './mpc/presignature-pool.js';
import { ReshareOrchestrator } from './mpc/reshare-orchestrator.js';
import { ShareSetDestruction } from './mpc/share-set-destruction.js';
import { CloudCosignerService } from './cosigners/cloud-cosigner-service.js';
import { MpcSessionService } from './mpc/mpc-session-service.js';
import { RelayNotifier } from './mpc/relay-notifier.js';
import { PreparedAggregations } from './transactions/prepared-aggregations.js';
import { WorkspaceService } from './workspaces/workspace-service.js';
import { VaultRepository } from './vaults/vault-repository.js';
import { VaultService } from './vaults/vault-service.js';
import { SigningOrchestrator } from './transactions/signing-orchestrator.js';
import { TransactionService } from './transactions/transaction-service.js';

export interface PlatformServices {
  database: PlatformDatabase;
  audit: AuditLog;
  nonces: NonceStore;
  authenticator: RequestAuthenticator;
  approvals: ApprovalService;
  approvalRequests: ApprovalRequestRepository;
  apiUsers: ApiUserService;
  workspaces: WorkspaceService;
  cosigners: CosignerService;
  /** A co-signer's changes to itself from its host (unpair, rename). */
  cosignerSelf: CosignerSelfService;
  pairing: PairingService;
  pairingPolls: PairingPolls;
  cosignerRecovery: CosignerRecovery;
  cosignerTokens: CosignerTokenService;
  /** Signs MPC session rosters; co-signers pin its public key at pairing. */
  authorizationKey: PlatformAuthorizationKey;
  relayNotifier: RelayNotifier;
  mpcSessions: MpcSessionService;
  cosignerJobs: CosignerJobService;
  keygen: KeygenOrchestrator;
  reshare: ReshareOrchestrator;
  /** The cloud co-signers' shares of an ended pairing's share sets (DESTROY jobs). */
  destruction: ShareSetDestruction;
  /** The ECDSA presignature pool's bookkeeping (no presignature material). */
  presignatures: PresignaturePool;
  /** Pooled EdDSA aggregations prepared while their shares are being made. */
  preparedAggregations: PreparedAggregations;
  cloudCosigners: CloudCosignerService;
  transactions: TransactionService;
  /** The configured assets and networks (read once, at start). */
  assets: AssetCatalog;
  vaults: VaultService;
}

/** Timing of the MPC relay (docs/mpc-relay.md). */
export interface RelayOptions {
  /** How long a job stays leased without the holder touching its session. */
  leaseMs: number;
  /** How often a waiting long poll re-reads the database (other instances' writes). */
  recheckMs: number;
  /** A session's deadline, from its creation. */
  sessionTtlMs: number;
  /**
   * Jobs of one workspace a Cloud Co-signer may hold leased at once (raw-signing review H2):
   * the cloud co-signers serve every workspace, and one workspace whose sessions stall (its API
   * co-signer offline or cheating) must not take all their slots (`cosigner start --concurrency`,
   * 32 by default) until its sessions expire.
   */
  cloudLeasesPerWorkspace: number;
  /**
   * ECDSA presignatures kept ready per signing share set (mpc/presignature-pool.ts), made or in
   * the making; 0: every signature presigns in its own session.
   */
  presignaturePoolSize: number;
}

export const defaultRelayOptions: RelayOptions = {
  leaseMs: 60_000,
  recheckMs: 1_000,
  sessionTtlMs: 10 * 60_000,
  cloudLeasesPerWorkspace: 16,
  presignaturePoolSize: 8,
};

export function createServices(
  database: PlatformDatabase,
  config: Pick<PlatformConfig, 'clockSkewSeconds' | 'assetsFile'>,
  clock: Clock = systemClock,
  relay: RelayOptions = defaultRelayOptions,
  assets: AssetCatalog = loadAssetCatalog(config.assetsFile),
): PlatformServices {
  const db = database.db;
  const audit = new AuditLog(db);
  const nonces = new NonceStore(db);
  const apiUserRepository = new ApiUserRepository(db);
  const approvalRequests = new ApprovalRequestRepository(db);
  const approvals = new ApprovalService(db, approvalRequests, audit);
  const apiUsers = new ApiUserService(db, apiUserRepository, approvals, audit);
  const cosignerRepository = new CosignerRepository(db);
  const cosignerTokens = new CosignerTokenService(db, cosignerRepository, audit, clock);
  const pairingPolls = new PairingPolls(db, cosignerTokens, clock);
  const secrets = new PlatformSecrets(db);
  const authorizationKey = new PlatformAuthorizationKey(secrets);
  const relayNotifier = new RelayNotifier(relay.recheckMs);
  const mpcSessions = new MpcSessionService(
    db,
    authorizationKey,
    relayNotifier,
    clock,
    relay.leaseMs,
  );
  const cosignerJobs = new CosignerJobService(
    db,
    relayNotifier,
    audit,
    clock,
    relay.leaseMs,
    relay.cloudLeasesPerWorkspace,
  );
  const keygen = new KeygenOrchestrator(mpcSessions, audit, clock, relay.sessionTtlMs);
  const reshare = new ReshareOrchestrator(mpcSessions, audit, clock, relay.sessionTtlMs);
  const destruction = new ShareSetDestruction(mpcSessions, audit, clock);
  // A paired signer gets its share sets: by KEYGEN if it is the first, else by RESHARE.
  const ensureShareSets = async (trx: Transaction<Database>, workspaceId: string) => [
    ...(await keygen.ensureForWorkspace(trx, workspaceId)),
    ...(await reshare.ensureForWorkspace(trx, workspaceId)),
  ];
  for (const kind of cosignerApprovalKinds(cosignerRepository, audit, clock, {
    onSignerPaired: ensureShareSets,
    onPairingEnded: (trx, pairing) => destruction.pairingEnded(trx, pairing, 'UNPAIRED_BY_OWNER'),
  })) {
    approvals.register(kind);
  }
  // A sandbox workspace's signer is paired to the communal test co-signer once it is ready.
  const sandboxPairing = new SandboxPairing(cosignerRepository, audit, ensureShareSets);
  apiUsers.whenReady((trx, apiUserId) => sandboxPairing.pairSigner(trx, apiUserId));
  const presignatures = new PresignaturePool(
    db,
    mpcSessions,
    cosignerJobs,
    audit,
    clock,
    relay.sessionTtlMs,
    relay.presignaturePoolSize,
  );
  const preparedAggregations = new PreparedAggregations(db);
  const signing = new SigningOrchestrator(
    mpcSessions,
    audit,
    clock,
    relay.sessionTtlMs,
    presignatures,
    preparedAggregations,
  );
  // Each handler is asked only about the purposes it lists beside its sessionEnded (and checks
  // the session itself): a signing's SIGN and PRESIGN ends read no session row for the others.
  cosignerJobs.whenSessionEnds(async (trx, sessionId, status, refusal, purpose) => {
    const concerns = (handler: { endedPurposes: readonly string[] }) =>
      purpose === undefined || handler.endedPurposes.includes(purpose);
    if (concerns(keygen)) await keygen.sessionEnded(trx, sessionId, status);
    if (concerns(reshare)) await reshare.sessionEnded(trx, sessionId, status, refusal);
    if (concerns(signing)) await signing.sessionEnded(trx, sessionId, status, refusal);
    if (concerns(destruction)) await destruction.sessionEnded(trx, sessionId, status);
    // Last: a new key's share set is recorded by now.
    if (concerns(presignatures)) await presignatures.sessionEnded(trx, sessionId, status);
  });
  cosignerJobs.whenJobEnds(async (trx, job) => {
    await destruction.jobEnded(trx, job);
    await presignatures.jobEnded(trx, job);
  });
  return {
    database,
    audit,
    nonces,
    authenticator: new RequestAuthenticator(apiUserRepository, nonces, {
      clockSkewSeconds: config.clockSkewSeconds,
    }),
    approvals,
    approvalRequests,
    apiUsers,
    workspaces: new WorkspaceService(db, audit),
    cosigners: new CosignerService(
      db,
      cosignerRepository,
      apiUsers,
      approvals,
      approvalRequests,
      audit,
      clock,
    ),
    cosignerSelf: new CosignerSelfService(db, audit, clock, destruction, relayNotifier),
    pairing: new PairingService(
      db,
      cosignerRepository,
      apiUsers,
      approvals,
      pairingPolls,
      secrets,
      audit,
      clock,
    ),
    pairingPolls,
    cosignerRecovery: new CosignerRecovery(
      db,
      cosignerRepository,
      cosignerTokens,
      authorizationKey,
      audit,
      clock,
    ),
    cosignerTokens,
    authorizationKey,
    relayNotifier,
    mpcSessions,
    cosignerJobs,
    keygen,
    reshare,
    destruction,
    cloudCosigners: new CloudCosignerService(
      db,
      cosignerRepository,
      cosignerTokens,
      keygen,
      sandboxPairing,
      audit,
      clock,
    ),
    presignatures,
    preparedAggregations,
    transactions: new TransactionService(db, signing, mpcSessions, assets, audit, clock),
    assets,
    vaults: new VaultService(db, new VaultRepository(db), assets, audit, clock),
  };
}
