/** `countersign api <METHOD> <path>`: one signed request to the API, response printed as JSON. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CountersignApiError, CountersignClient, createPemRequestSigner, type HttpMethod } from '@countersign/sdk';
import { ExitCode, UsageError } from '../exit-codes.js';
import { readDevState } from '../dev-state.js';

export const apiHelp = `Usage: countersign api <METHOD> <path> [--body <json> | --body-file <file>] [options]

Sends one request signed with an API user's key and prints the JSON response.
Credentials come from the flags, else from COUNTERSIGN_API_KEY /
COUNTERSIGN_API_SECRET_PATH / COUNTERSIGN_BASE_URL, else from the running
'countersign dev' stack (.countersign/dev/state.json).

  <METHOD>               GET, POST, PUT, PATCH or DELETE
  <path>                 path and query, e.g. /v1/management/api_users
  --body <json>          request body (JSON text)
  --body-file <file>     request body from a file
  --api-key <uuid>       the API user's API key
  --key <file>           the API user's RSA private key (PEM)
  --base-url <url>       platform base URL (default http://127.0.0.1:8080)
  --idempotency-key <k>  sent as Idempotency-Key

Exit codes: 0 success, 2 usage error, 4 the API answered with an error, 1 other failure.

Example:
  countersign api GET /v1/management/api_users`;

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export async function apiCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      body: { type: 'string' },
      'body-file': { type: 'string' },
      'api-key': { type: 'string' },
      key: { type: 'string' },
      'base-url': { type: 'string' },
      'idempotency-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(apiHelp);
    return ExitCode.OK;
  }
  const [methodArg, path, extra] = positionals;
  if (!methodArg || !path || extra !== undefined) throw new UsageError('expected <METHOD> <path>; see countersign api --help');
  const method = methodArg.toUpperCase();
  if (!METHODS.has(method)) throw new UsageError(`unknown method ${methodArg}`);
  if (!path.startsWith('/')) throw new UsageError('path must start with / (e.g. /v1/management/api_users)');
  if (values.body !== undefined && values['body-file'] !== undefined) throw new UsageError('give --body or --body-file, not both');

  const dev = readDevState();
  const apiKey = values['api-key'] ?? process.env['COUNTERSIGN_API_KEY'] ?? dev?.apiKey;
  const keyPath = values.key ?? process.env['COUNTERSIGN_API_SECRET_PATH'] ?? dev?.privateKeyPath;
  const baseUrl = values['base-url'] ?? process.env['COUNTERSIGN_BASE_URL'] ?? dev?.baseUrl ?? 'http://127.0.0.1:8080';
  if (!apiKey || !keyPath) throw new UsageError('no credentials: pass --api-key and --key (or run countersign dev first)');

  const bodyText = values.body ?? (values['body-file'] ? readFileSync(values['body-file'], 'utf8') : undefined);
  let body: unknown;
  if (bodyText !== undefined) {
    try {
      body = JSON.parse(bodyText);
    } catch {
      throw new UsageError('the body is not valid JSON');
    }
  }
  const [pathname, search = ''] = path.split('?', 2) as [string, string?];
  const query = Object.fromEntries(new URLSearchParams(search));
  const client = new CountersignClient({
    baseUrl,
    apiKey,
    signer: createPemRequestSigner(readFileSync(keyPath, 'utf8')),
  });
  try {
    const res: unknown = await client.request(method as HttpMethod, pathname, {
      ...(Object.keys(query).length ? { query } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(values['idempotency-key'] ? { headers: { 'Idempotency-Key': values['idempotency-key'] } } : {}),
    });
    console.log(JSON.stringify(res ?? null, null, 2));
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CountersignApiError) {
      console.error(`API error ${error.status} (code ${error.code}): ${error.message}`);
      return ExitCode.API_ERROR;
    }
    throw error;
  }
}
