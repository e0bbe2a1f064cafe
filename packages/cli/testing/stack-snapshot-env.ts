/**
 * The environment variable naming a test run's signing stack snapshot directory: set by
 * vitest.global-setup.ts, read by signing-stack.ts. Its own module, so the global setup does not
 * load the stack's dependencies.
 */
export const SNAPSHOT_ENV = 'COUNTERSIGN_TEST_STACK_SNAPSHOT';
