/** The credential of an `Authorization: Bearer <token>` header (RFC 9110: the scheme is case-insensitive). */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^bearer +([^\s]+)$/i.exec(authorization ?? '');
  return match?.[1];
}
