import { stat } from 'node:fs/promises';

/** Whether `path` exists; errors other than "not found" (e.g. permission) are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return false;
    throw e;
  }
}
