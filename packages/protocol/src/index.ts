export * from './error-codes.js';
export * from './roles.js';
