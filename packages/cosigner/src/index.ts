// Secure MPC channel over the platform relay (ARCHITECTURE.md §5; docs/channel.md).
export * from './channel/index.js';
