import { type FileHandle, open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { tryLock } from 'fs-native-extensions';

/**
 * One bot process per data file, enforced by the kernel: an exclusive lock on `DATA_FILE.lock` (an open file
 * description lock on Linux, `flock` on macOS), held as long as the file stays open. The kernel drops it when the
 * process ends however it ends (SIGKILL, a crash, a zombie not yet reaped), and it holds across pid namespaces on
 * one host, where a pid in a file proves nothing: two containers sharing a volume both run as pid 1.
 *
 * The file's contents only explain a refusal (which host, pid and start time hold it); they never decide anything.
 * The file is never deleted: a process that opened it just before a delete would lock an orphaned inode while the
 * next one locks a fresh file, and both would run.
 */

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export class DataFileLock {
  private constructor(
    private handle: FileHandle | undefined,
    readonly path: string,
  ) {}

  /** Takes the lock, or resolves to who holds it; never waits for a holder. */
  static async acquire(path: string): Promise<DataFileLock | { heldBy: LockHolder | undefined }> {
    // 0600: the holder's host and pid are nobody else's business. Opened without truncating: a refused process must
    // not wipe the holder's note.
    const handle = await open(path, 'a+', 0o600);
    let locked: boolean;
    try {
      locked = tryLock(handle.fd);
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (!locked) {
      const text = await handle.readFile('utf8').catch(() => '');
      await handle.close();
      return { heldBy: parseHolder(text) };
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    await handle.truncate(0);
    await handle.write(`${JSON.stringify(holder)}\n`, 0);
    return new DataFileLock(handle, path);
  }

  /** Releases the lock (closing the file is what releases it); the file stays, emptied. */
  async release(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    await handle.truncate(0).catch(() => undefined);
    await handle.close();
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.startedAt === 'string') {
      return { pid: parsed.pid, host: parsed.host, startedAt: parsed.startedAt };
    }
  } catch {
    // An empty note (a holder between its lock and its write) or an old pid-only lock file.
  }
  return undefined;
}

/** The refusal, in one line: who holds the lock and what to do. */
export function describeHolder(dataFile: string, holder: LockHolder | undefined): string {
  const who = holder ? `pid ${holder.pid} on host ${holder.host}, started ${holder.startedAt}` : 'a process that has not said who it is yet';
  return `DATA_FILE ${dataFile} is in use by another bot process (${who}); stop it first, or give this one its own DATA_FILE.`;
}
