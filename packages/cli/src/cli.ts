/**
 * The `countersign` command: a thin dispatcher over the library packages.
 * Commands load lazily so `--help` and `csr` start fast.
 */
import { ExitCode, UsageError } from './exit-codes.js';

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  dev: {
    summary: 'run the whole stack locally on the embedded database',
    load: async () => (await import('./commands/dev.js')).devCommand,
  },
  start: {
    summary: 'run the platform server',
    load: async () => (await import('./commands/start.js')).startCommand,
  },
  workspace: {
    summary: 'workspace init: create a workspace and its Owner',
    load: async () => (await import('./commands/workspace.js')).workspaceCommand,
  },
  'api-user': {
    summary: 'api-user create: create an API user as the Owner (bootstrap)',
    load: async () => (await import('./commands/api-user.js')).apiUserCommand,
  },
  csr: {
    summary: 'generate an API user key and CSR',
    load: async () => (await import('./commands/csr.js')).csrCommand,
  },
  api: {
    summary: 'send one signed API request',
    load: async () => (await import('./commands/api.js')).apiCommand,
  },
  audit: {
    summary: 'audit verify: check the audit log hash chain',
    load: async () => (await import('./commands/audit.js')).auditCommand,
  },
  'cloud-cosigner': {
    summary: "cloud-cosigner token: register one of the operator's cloud co-signers",
    load: async () => (await import('./commands/cloud-cosigner.js')).cloudCosignerCommand,
  },
};

export const mainHelp = `Countersign — self-hostable MPC transaction signing

Usage: countersign <command> [options]     (countersign <command> --help for details)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`)
  .join('\n')}

Exit codes: 0 success, 1 failure, 2 usage error, 3 verification failed, 4 API error.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp);
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (name === '--version' || name === '-v') {
    console.log('countersign 0.1.0');
    return ExitCode.OK;
  }
  const command = commands[name];
  if (!command) {
    console.error(`countersign: unknown command '${name}'\n\n${mainHelp}`);
    return ExitCode.USAGE;
  }
  try {
    return await (
      await command.load()
    )(rest);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      console.error(
        `countersign ${name}: ${(error as Error).message}\nSee: countersign ${name} --help`,
      );
      return ExitCode.USAGE;
    }
    console.error(`countersign ${name}: ${describe(error)}`);
    return ExitCode.FAILURE;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** The message and its causes, without stack traces: they help nobody at a terminal. */
function describe(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  while (e instanceof Error && parts.length < 4) {
    parts.push(e.message);
    e = e.cause;
  }
  return parts.join(': ') || String(error);
}
