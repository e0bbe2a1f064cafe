/** Exit codes of the `countersign` command, documented in its --help. */
export const ExitCode = {
  OK: 0,
  /** The operation failed (network, database, server error). */
  FAILURE: 1,
  /** The command line was wrong: unknown flag, missing argument. */
  USAGE: 2,
  /** A verification found a problem (e.g. a broken audit chain). */
  VERIFICATION_FAILED: 3,
  /** The API answered with an error. */
  API_ERROR: 4,
} as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
