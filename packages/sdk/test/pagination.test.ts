import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CountersignClient,
  CountersignResponseError,
  createPemRequestSigner,
  dataNextPages,
  pagingAfterPages,
  type Page,
} from '@countersign/sdk';
import {
  json,
  startSignedRequestServer,
  type SignedRequestServer,
} from './signed-request-server.js';

const apiKey = randomUUID();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const items = Array.from({ length: 7 }, (_, i) => ({ id: String(i) }));

let server: SignedRequestServer;
let client: CountersignClient;

/** Serves `items` in pages; the cursor is the index of the page's first item. */
function pagedHandler(shape: 'data-next' | 'paging-after' | 'data-cursor') {
  return (req: { url: string }, res: Parameters<SignedRequestServer['handler']>[1]) => {
    const params = new URL(req.url, 'http://x').searchParams;
    const cursorParam = {
      'data-next': 'pageCursor',
      'paging-after': 'after',
      'data-cursor': 'cursor',
    }[shape];
    const start = Number(params.get(cursorParam) ?? '0');
    const limit = Number(params.get('limit') ?? '3');
    const page = items.slice(start, start + limit);
    const next = start + limit < items.length ? String(start + limit) : undefined;
    if (shape === 'data-next') json(res, 200, { data: page, next: next ?? null });
    else if (shape === 'paging-after')
      json(res, 200, { accounts: page, paging: next === undefined ? {} : { after: next } });
    else json(res, 200, { data: page, cursor: next ?? null, total: items.length });
  };
}

beforeAll(async () => {
  server = await startSignedRequestServer({ apiKey, publicKey });
  client = new CountersignClient({
    baseUrl: server.baseUrl,
    apiKey,
    signer: createPemRequestSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
  });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.authFailures.length = 0;
});

describe('cursor pagination', () => {
  it('walks { data, next } pages with pageCursor and limit, each request signed', async () => {
    server.handler = pagedHandler('data-next');
    const pages: Page<{ id: string }>[] = [];
    for await (const page of client.paginate(
      '/v1/cosigners/c1/api_keys',
      dataNextPages<{ id: string }>(),
      {
        pageSize: 3,
        query: { order: 'ASC' },
      },
    )) {
      pages.push(page);
    }

    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.items)).toEqual(items);
    expect(pages.at(-1)?.nextCursor).toBeUndefined();
    expect(server.authFailures).toEqual([]);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v1/cosigners/c1/api_keys?order=ASC&limit=3',
      '/v1/cosigners/c1/api_keys?order=ASC&limit=3&pageCursor=3',
      '/v1/cosigners/c1/api_keys?order=ASC&limit=3&pageCursor=6',
    ]);
  });

  it('walks { accounts, paging: { after } } pages', async () => {
    server.handler = pagedHandler('paging-after');
    const got: { id: string }[] = [];
    for await (const item of client.paginateItems(
      '/v1/vault/accounts_paged',
      pagingAfterPages<{ id: string }>('accounts'),
      {
        pageSize: 2,
      },
    )) {
      got.push(item);
    }
    expect(got).toEqual(items);
    expect(server.requests).toHaveLength(4);
    expect(server.requests[1]?.url).toBe('/v1/vault/accounts_paged?limit=2&after=2');
  });

  it('iterates the audit log ({ data, cursor }) with its time period', async () => {
    server.handler = pagedHandler('data-cursor');
    const got = [];
    for await (const entry of client.iterateAuditLogs({ timePeriod: 'WEEK', limit: 3 }))
      got.push(entry);
    expect(got).toEqual(items);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/v1/management/audit_logs?timePeriod=WEEK&limit=3',
      '/v1/management/audit_logs?timePeriod=WEEK&limit=3&cursor=3',
      '/v1/management/audit_logs?timePeriod=WEEK&limit=3&cursor=6',
    ]);
    const first = await client.listAuditLogs({ timePeriod: 'DAY', cursor: '3' });
    expect(first).toMatchObject({ cursor: '6', total: 7 });
    expect(first.data).toEqual(items.slice(3, 6));
  });

  it('stops early when the loop breaks, fetching no further page', async () => {
    server.handler = pagedHandler('data-next');
    for await (const item of client.paginateItems('/v1/x', dataNextPages(), { pageSize: 3 })) {
      expect(item).toEqual(items[0]);
      break;
    }
    expect(server.requests).toHaveLength(1);
  });

  it('reports a server that repeats a cursor instead of looping forever', async () => {
    server.handler = (_req, res) => json(res, 200, { data: [{ id: 'a' }], next: 'same' });
    let seenItems = 0;
    const walk = async () => {
      for await (const page of client.paginate('/v1/x', dataNextPages())) {
        seenItems += page.items.length;
      }
    };
    await expect(walk()).rejects.toBeInstanceOf(CountersignResponseError);
    expect(server.requests).toHaveLength(2);
    expect(seenItems).toBe(2);
  });

  it('reports a page of the wrong shape', async () => {
    server.handler = (_req, res) => json(res, 200, { items: [] });
    await expect(client.paginate('/v1/x', dataNextPages()).next()).rejects.toMatchObject({
      code: 'ERR_SDK_INVALID_RESPONSE',
    });
    server.handler = (_req, res) => json(res, 200, { data: [], next: 42 });
    await expect(client.paginate('/v1/x', dataNextPages()).next()).rejects.toBeInstanceOf(
      CountersignResponseError,
    );
  });
});
