export * from './error-codes.js';
export * from './roles.js';
export * from './rest/common.js';
export * from './rest/api-users.js';
export * from './rest/approvals.js';
export * from './rest/audit-logs.js';
export * from './rest/cosigners.js';
export * from './rest/cosigner-pairing.js';
