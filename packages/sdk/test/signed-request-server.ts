/**
 * Test fixture: a real HTTP server on a loopback port that checks every
 * request the way the Fireblocks API authenticates (ARCHITECTURE §6), with
 * node:crypto only — independently of the SDK's code. It is not a model of
 * the platform: each test scripts the responses it needs.
 */
import { createHash, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query exactly as received on the wire. */
  url: string;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
  claims: Record<string, unknown>;
  jwtHeader: Record<string, unknown>;
  receivedAt: number;
}

export type Handler = (request: ReceivedRequest, res: ServerResponse) => void;

export interface SignedRequestServer {
  baseUrl: string;
  /** Requests that authenticated. */
  requests: ReceivedRequest[];
  /** Why requests were refused; a passing test expects this to stay empty. */
  authFailures: string[];
  handler: Handler;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function startSignedRequestServer(options: {
  apiKey: string;
  publicKey: KeyObject;
  /** How far `iat` may be from this server's clock, seconds. */
  iatToleranceSeconds?: number;
}): Promise<SignedRequestServer> {
  const tolerance = options.iatToleranceSeconds ?? 5;
  const nonces = new Set<string>();
  const state: SignedRequestServer = {
    baseUrl: '',
    requests: [],
    authFailures: [],
    handler: (_request, res) => json(res, 404, { message: 'no handler', code: 1404 }),
    close: () => Promise.resolve(),
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const result = authenticate(req, rawBody);
      if (typeof result === 'string') {
        state.authFailures.push(result);
        json(res, 401, { message: result, code: -1 });
        return;
      }
      state.requests.push(result);
      state.handler(result, res);
    });
  });

  function authenticate(req: IncomingMessage, rawBody: Buffer): ReceivedRequest | string {
    if (req.headers['x-api-key'] !== options.apiKey) return 'bad X-API-Key';
    const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(req.headers.authorization ?? '');
    if (match === null) return 'no bearer JWT';
    const [, headerB64 = '', payloadB64 = '', signatureB64 = ''] = match;
    const jwtHeader = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8'));
    if (jwtHeader.alg !== 'RS256' || jwtHeader.typ !== 'JWT') return 'bad JWT header';
    const signedOk = verify(
      'sha256',
      Buffer.from(`${headerB64}.${payloadB64}`, 'ascii'),
      options.publicKey,
      Buffer.from(signatureB64, 'base64url'),
    );
    if (!signedOk) return 'bad signature';
    const claims = JSON.parse(Buffer.from(payloadB64, 'base64url').toString('utf8'));
    if (claims.uri !== req.url) return `uri ${String(claims.uri)} != ${String(req.url)}`;
    if (claims.sub !== options.apiKey) return 'bad sub';
    if (claims.bodyHash !== createHash('sha256').update(rawBody).digest('hex')) {
      return 'bad bodyHash';
    }
    if (typeof claims.nonce !== 'string' || !UUID.test(claims.nonce)) return 'bad nonce';
    if (nonces.has(claims.nonce)) return 'replayed nonce';
    nonces.add(claims.nonce);
    const now = Date.now() / 1000;
    if (!Number.isInteger(claims.iat) || Math.abs(claims.iat - now) > tolerance) return 'bad iat';
    if (!Number.isInteger(claims.exp) || claims.exp <= claims.iat || claims.exp - claims.iat > 60) {
      return 'bad exp';
    }
    return {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawBody,
      claims,
      jwtHeader,
      receivedAt: Date.now(),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.baseUrl = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return state;
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
