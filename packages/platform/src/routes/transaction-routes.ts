/**
 * `/v1/transactions` (Fireblocks shapes, docs/transactions.md): create a RAW signing transaction
 * (with `Idempotency-Key`), read it by id or by external id.
 */
import {
  CreateTransactionRequestSchema,
  CreateTransactionResponseSchema,
  ErrorBodySchema,
  ExternalTxIdParamsSchema,
  TransactionParamsSchema,
  TransactionResponseSchema,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidTransaction } from '../transactions/transaction-errors.js';
import { principalOf } from './principal-of.js';

const errors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
};
const tags = ['Transactions'];
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function transactionRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { transactions } = app.services;

  r.post(
    '/v1/transactions',
    {
      config: { permission: 'transactions:create' },
      schema: {
        tags,
        summary: 'Create a transaction (RAW signing): stored before the answer, then signed',
        body: CreateTransactionRequestSchema,
        response: { 200: CreateTransactionResponseSchema, 409: ErrorBodySchema, ...errors },
      },
    },
    (request) => transactions.create(principalOf(request), request.body, idempotencyKeyOf(request)),
  );

  r.get(
    '/v1/transactions/:txId',
    {
      config: { permission: 'transactions:read' },
      schema: {
        tags,
        summary: 'A transaction, with its signed messages once COMPLETED',
        params: TransactionParamsSchema,
        response: { 200: TransactionResponseSchema, ...errors },
      },
    },
    (request) =>
      transactions.get(principalOf(request).workspaceId, request.params.txId.toLowerCase()),
  );

  r.get(
    '/v1/transactions/external_tx_id/:externalTxId',
    {
      config: { permission: 'transactions:read' },
      schema: {
        tags,
        summary: 'A transaction by the externalTxId it was created with',
        params: ExternalTxIdParamsSchema,
        response: { 200: TransactionResponseSchema, ...errors },
      },
    },
    (request) =>
      transactions.getByExternalId(principalOf(request).workspaceId, request.params.externalTxId),
  );
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value))
    throw invalidTransaction('Idempotency-Key must be 1 to 255 printable ASCII characters');
  return value;
}
