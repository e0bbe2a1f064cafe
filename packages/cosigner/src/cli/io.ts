/** Where a command writes; tests pass their own to capture output. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Environment variables (secrets such as the passphrase come from here or from files). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The process's own streams and environment. */
export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

/** A command: parsed arguments in, exit code out. */
export type Command = (args: string[], io: CommandIo) => Promise<number>;
