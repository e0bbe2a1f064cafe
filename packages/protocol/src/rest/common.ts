import { Type } from 'typebox';

/** Every error response. */
export const ErrorBodySchema = Type.Object(
  { message: Type.String(), code: Type.Number() },
  { $id: 'ErrorBody', additionalProperties: false },
);

export const RoleSchema = Type.Union(
  [
    Type.Literal('OWNER'),
    Type.Literal('ADMIN'),
    Type.Literal('NON_SIGNING_ADMIN'),
    Type.Literal('SIGNER'),
    Type.Literal('APPROVER'),
    Type.Literal('EDITOR'),
    Type.Literal('VIEWER'),
  ],
  { description: 'Workspace role' },
);

export const UuidSchema = Type.String({ format: 'uuid' });
