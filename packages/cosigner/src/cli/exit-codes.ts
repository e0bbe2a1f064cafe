/** Exit codes of the `cosigner` command, listed in its --help and in docs/cli.md. */
export const ExitCode = {
  OK: 0,
  /** The operation failed (I/O, network, an unexpected error). */
  FAILURE: 1,
  /** The command line was wrong: unknown flag, missing argument, bad value. */
  USAGE: 2,
  /** The store could not be unlocked: wrong passphrase or PIN, KMS refused or unreachable. */
  LOCKED: 3,
  /** The store or configuration is missing, exists already, or is damaged. */
  STORE: 4,
  /** The platform refused the request (e.g. an invalid or used pairing token), or the Owner rejected the pairing. */
  PLATFORM: 5,
  /** The pairing still waits for the Owner's approval when --timeout ran out (run pair again to keep waiting). */
  PENDING: 6,
  /** `start`: another daemon already runs on this store (one daemon per store, docs/cli.md). */
  IN_USE: 7,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A wrong command line; printed with a pointer to --help, exit {@link ExitCode.USAGE}. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
