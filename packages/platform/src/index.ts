export { buildApp, type BuildAppOptions } from './app.js';
export { startPlatform, closeOnSignals, type RunningPlatform } from './server.js';
export { configFromEnv, defaultConfig, type PlatformConfig } from './config.js';
export {
  openDatabase,
  redactUrl,
  type DatabaseOptions,
  type PlatformDatabase,
} from './db/connect.js';
export { createServices, type PlatformServices } from './services.js';
export { permissionTable, roleHasPermission, type Permission } from './auth/permissions.js';
export type { Principal } from './auth/principal.js';
export { PlatformError } from './errors.js';
export { AuditLog } from './audit/audit-log.js';
export { parseApiUserCsr, type ApiUserCsr } from './api-users/csr.js';
export { CsrError, type CsrErrorCode } from './api-users/csr-errors.js';
