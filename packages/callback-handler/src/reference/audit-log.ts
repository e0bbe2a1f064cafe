/**
 * The reference handler's audit log: one JSON object per line, appended (O_APPEND) and fsynced
 * before the answer is sent, as the co-signer security checklist recommends ("log all approval
 * requests"). Entries carry the validated payload and the decision — never a token or a key,
 * which the library never hands to the audit hook in the first place.
 *
 * Lines are hash-chained: each carries `prevHash`, the hex SHA-256 of the previous line's bytes
 * (without its newline; the first line of a file chains from 64 zeros), so an edit, a deletion
 * or a reordering of any line but the last shows in `verifyAuditLog`. The last line and a
 * truncated tail are not protected by the file alone: ship lines elsewhere as they are written
 * (a SIEM) for that.
 * @module
 */
import { createHash } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';

export const GENESIS_HASH = '0'.repeat(64);

export class AuditLog {
  readonly #handle: FileHandle;
  #prevHash: string;
  #tail: Promise<void> = Promise.resolve();

  private constructor(handle: FileHandle, prevHash: string) {
    this.#handle = handle;
    this.#prevHash = prevHash;
  }

  static async open(path: string): Promise<AuditLog> {
    const handle = await open(path, 'a+', 0o600);
    try {
      const { line, endsWithNewline } = await lastLine(handle);
      // A line cut by a crash is closed first, so the next entry starts on its own line.
      if (!endsWithNewline) await handle.write('\n');
      return new AuditLog(handle, line === undefined ? GENESIS_HASH : sha256Hex(line));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Appends one line and fsyncs it; lines are written in call order. */
  append(entry: object): Promise<void> {
    const write = this.#tail.then(async () => {
      const line = JSON.stringify({ ...entry, prevHash: this.#prevHash });
      await this.#handle.write(line + '\n');
      await this.#handle.datasync();
      this.#prevHash = sha256Hex(Buffer.from(line));
    });
    // A failed write fails its caller; the next one still runs.
    this.#tail = write.catch(() => {});
    return write;
  }

  async close(): Promise<void> {
    await this.#tail;
    await this.#handle.close();
  }
}

export interface AuditLogVerification {
  lines: number;
  /** 1-based number of the first line whose `prevHash` does not chain, if any. */
  brokenAt?: number;
}

/** Checks the hash chain of a whole audit log file. */
export async function verifyAuditLog(path: string): Promise<AuditLogVerification> {
  const bytes = await readFile(path);
  let prevHash = GENESIS_HASH;
  let start = 0;
  let number = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue; // the newline that closed a cut line
    number += 1;
    let claimed: unknown;
    try {
      claimed = (JSON.parse(line.toString('utf8')) as { prevHash?: unknown }).prevHash;
    } catch {
      claimed = undefined;
    }
    if (claimed !== prevHash) return { lines: number, brokenAt: number };
    prevHash = sha256Hex(line);
  }
  return { lines: number };
}

/** The file's last non-empty line (read backwards in chunks, however long it is). */
async function lastLine(
  handle: FileHandle,
): Promise<{ line: Buffer | undefined; endsWithNewline: boolean }> {
  const size = (await handle.stat()).size;
  if (size === 0) return { line: undefined, endsWithNewline: true };
  const chunks: Buffer[] = [];
  let position = size;
  let endsWithNewline: boolean | undefined;
  let collected = Buffer.alloc(0);
  while (position > 0) {
    const length = Math.min(64 * 1024, position);
    position -= length;
    const chunk = Buffer.alloc(length);
    await handle.read(chunk, 0, length, position);
    chunks.unshift(chunk);
    collected = Buffer.concat(chunks);
    endsWithNewline ??= collected[collected.length - 1] === 0x0a;
    const body = trimTrailingNewlines(collected);
    const cut = body.lastIndexOf(0x0a);
    if (cut >= 0) return { line: body.subarray(cut + 1), endsWithNewline };
  }
  const body = trimTrailingNewlines(collected);
  return { line: body.length === 0 ? undefined : body, endsWithNewline: endsWithNewline ?? true };
}

function trimTrailingNewlines(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0x0a) end -= 1;
  return bytes.subarray(0, end);
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
