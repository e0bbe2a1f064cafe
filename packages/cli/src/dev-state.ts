/**
 * What `countersign dev` remembers between runs, in .countersign/dev/: the
 * workspace, the development API user's key and the base URL. No password and
 * no secret but the development API key file (mode 0600) is kept here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface DevState {
  workspaceId: string;
  apiKey: string;
  privateKeyPath: string;
  baseUrl?: string;
}

export function devDir(root = '.countersign'): string {
  return resolve(root, 'dev');
}

export function readDevState(
  root = process.env['COUNTERSIGN_HOME'] ?? '.countersign',
): DevState | undefined {
  const file = join(devDir(root), 'state.json');
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevState>;
    if (
      typeof parsed.workspaceId !== 'string' ||
      typeof parsed.apiKey !== 'string' ||
      typeof parsed.privateKeyPath !== 'string'
    ) {
      return undefined;
    }
    return parsed as DevState;
  } catch {
    return undefined;
  }
}

export function writeDevState(state: DevState, root = '.countersign'): void {
  mkdirSync(devDir(root), { recursive: true, mode: 0o700 });
  writeFileSync(join(devDir(root), 'state.json'), JSON.stringify(state, null, 2) + '\n', {
    mode: 0o600,
  });
}
