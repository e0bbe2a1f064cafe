/** Name of the lock database in the store directory that a running daemon holds. */
export const DAEMON_LOCK_FILE = 'daemon.lockdb';
