/** `countersign api <METHOD> <path>`: one signed request to the API, response printed as JSON. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CountersignApiError, type HttpMethod } from '@countersign/sdk';
import { apiClientFrom, apiCredentialFlags, apiCredentialHelp } from '../api-credentials.js';
import { ExitCode, UsageError } from '../exit-codes.js';

export const apiHelp = `Usage: countersign api <METHOD> <path> [--body <json> | --body-file <file>] [options]

Sends one request signed with an API user's key and prints the JSON response.

  <METHOD>               GET, POST, PUT, PATCH or DELETE
  <path>                 path and query, e.g. /v1/management/api_users
  --body <json>          request body (JSON text)
  --body-file <file>     request body from a file
  --idempotency-key <k>  sent as Idempotency-Key

${apiCredentialHelp}

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
      'idempotency-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...apiCredentialFlags,
    },
  });
  if (values.help) {
    console.log(apiHelp);
    return ExitCode.OK;
  }
  const [methodArg, path, extra] = positionals;
  if (!methodArg || !path || extra !== undefined) {
    throw new UsageError('expected <METHOD> <path>');
  }
  const method = methodArg.toUpperCase();
  if (!METHODS.has(method)) throw new UsageError(`unknown method ${methodArg}`);
  if (!path.startsWith('/')) {
    throw new UsageError('path must start with / (e.g. /v1/management/api_users)');
  }
  if (values.body !== undefined && values['body-file'] !== undefined) {
    throw new UsageError('give --body or --body-file, not both');
  }
  const bodyText =
    values.body ?? (values['body-file'] ? readFileSync(values['body-file'], 'utf8') : undefined);
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
  const client = apiClientFrom(values);
  try {
    const res: unknown = await client.request(method as HttpMethod, pathname, {
      ...(Object.keys(query).length ? { query } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(values['idempotency-key']
        ? { headers: { 'Idempotency-Key': values['idempotency-key'] } }
        : {}),
    });
    console.log(JSON.stringify(res ?? null, null, 2));
    return ExitCode.OK;
  } catch (error) {
    return reportApiError(error);
  }
}

/** API errors print status, code and message and exit 4; anything else propagates. */
export function reportApiError(error: unknown): number {
  if (error instanceof CountersignApiError) {
    console.error(`API error ${error.status} (code ${error.code}): ${error.message}`);
    return ExitCode.API_ERROR;
  }
  throw error;
}
