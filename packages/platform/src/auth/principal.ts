import type { Role } from '@countersign/protocol';

/** Who is calling: established by authentication, consulted by every permission check. */
export interface Principal {
  kind: 'api_user' | 'console_user';
  id: string;
  workspaceId: string;
  role: Role;
  name: string;
}
