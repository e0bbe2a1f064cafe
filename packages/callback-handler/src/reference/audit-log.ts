/**
 * The reference handler's audit log: one JSON object per line, appended (O_APPEND) and fsynced
 * before the answer is sent, as the co-signer security checklist recommends ("log all approval
 * requests"). Entries carry the validated payload and the decision — never a token or a key,
 * which the library never hands to the audit hook in the first place.
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';

export class AuditLog {
  readonly #handle: FileHandle;
  #tail: Promise<void> = Promise.resolve();

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  static async open(path: string): Promise<AuditLog> {
    return new AuditLog(await open(path, 'a', 0o600));
  }

  /** Appends one line and fsyncs it; lines are written in call order. */
  append(entry: object): Promise<void> {
    const line = JSON.stringify(entry) + '\n';
    const write = this.#tail.then(async () => {
      await this.#handle.write(line);
      await this.#handle.datasync();
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
