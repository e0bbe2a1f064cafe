// Secure MPC channel over the platform relay (ARCHITECTURE.md §5; docs/channel.md).
export * from './channel/index.js';

// Errors of this package (ERR_COSIGNER_*).
export * from './errors.js';

// KMS providers that wrap the store's data key (ARCHITECTURE.md §9; docs/kms.md).
export type { KmsProvider, KmsProviderId, WrappedKey } from './kms/kms-provider.js';
export { parseWrappedKey, WRAPPED_KEY_FORMAT } from './kms/kms-provider.js';
export * from './kms/local-kms.js';
export * from './kms/pkcs11-kms.js';
export * from './kms/aws-kms.js';
export * from './kms/gcp-kms.js';

// The encrypted store, backup and restore (ARCHITECTURE.md §9; docs/store.md).
export { CosignerStore, initStore, openStore, RESERVED_META_KEYS } from './store/cosigner-store.js';
export type { StoreOptions } from './store/cosigner-store.js';
export type { StoreHeader } from './store/store-header.js';
export type {
  ShareSetAlgorithm,
  ShareSetRecord,
  NewShareSet,
  ShareSetRepository,
} from './store/share-set-repository.js';
export type {
  PresignatureRepository,
  PresignatureState,
  TakenPresignature,
} from './store/presignature-repository.js';
export type { ProtocolState, ProtocolStateRepository } from './store/protocol-state-repository.js';
export type {
  PairedApiKeyRecord,
  PairedApiKeyRepository,
} from './store/paired-api-key-repository.js';
export type { SecretRepository } from './store/secret-repository.js';
export { backupStore } from './store/backup-store.js';
export type { BackupResult } from './store/backup-store.js';
export { restoreStore } from './store/restore-store.js';
export type { RestoreOptions, RestoreResult } from './store/restore-store.js';

// The daemon, for embedding (e.g. `countersign dev` running co-signers in its process tree).
export { runDaemon, type DaemonLog, type DaemonOptions } from './daemon/cosigner-daemon.js';
export {
  pairApiKey,
  waitForPairing,
  type PairOptions,
  type PairOutcome,
  type PairingWait,
} from './platform/pairing.js';
export { PlatformCredentials } from './platform/platform-credentials.js';
export { movePlatform } from './platform/move-platform.js';
export { isLoopbackHttp } from './platform/platform-client.js';
export { pinnedPlatformKey } from './platform/platform-key.js';
export { createStoredIdentity, loadStoredIdentity } from './identity/stored-identity.js';
export { pendingPairings, type PendingPairing } from './platform/pending-pairings.js';
export { provisionStore } from './store/provision-store.js';
// A co-signer home's configuration, so an embedder's homes open with the `cosigner` command too.
export { writeCosignerConfig, type CosignerConfig } from './cli/config.js';
