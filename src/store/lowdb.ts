import { constants, writeSync } from 'node:fs';
import { type FileHandle, appendFile, mkdir, open, readFile, rm, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { COLLECTIONS, type Change, type Persistence, type Records, emptyRecords } from './persistence';

/**
 * The default store on disk: a lowdb snapshot (`DATA_FILE`, written atomically by lowdb's temp-file-and-rename
 * writer) plus an append-only change log (`DATA_FILE.log`, one JSON line per batch of changes). lowdb alone
 * rewrites the whole file on every write, so a write would cost more as data grows; here a write costs one appended
 * line, and the snapshot is rewritten only when the log has grown as large as the data, which keeps the amortised
 * cost per change flat.
 *
 * Durability, as SQLite's WAL mode with `synchronous=NORMAL` and Redis's `appendfsync everysec` have it: every
 * batch is written to the kernel before `append` resolves, so a crashed or SIGKILLed process loses nothing it
 * acknowledged; the log is fsynced every `fsyncIntervalMs`, which bounds what a power cut can take. With an
 * interval of 0 every batch is fsynced before it is acknowledged, at about a millisecond per batch.
 */

interface Snapshot {
  v: 1;
  collections: Record<string, Record<string, unknown>>;
}

export class StoreFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFileError';
  }
}

const MIN_LOG_CHANGES_BEFORE_COMPACTION = 10_000;
export const DEFAULT_FSYNC_INTERVAL_MS = 1_000;

export class FilePersistence implements Persistence {
  private readonly snapshot: Low<Snapshot>;
  private readonly logPath: string;
  private readonly lockPath: string;
  private log: FileHandle | undefined;
  private lockHeld = false;
  private logChanges = 0;
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataFile: string,
    private readonly fsyncIntervalMs = DEFAULT_FSYNC_INTERVAL_MS,
  ) {
    // lowdb's JSONFile indents its output, which doubles the time a 100k-record snapshot holds the event loop;
    // DataFile is the same atomic writer with compact JSON.
    this.snapshot = new Low<Snapshot>(new DataFile<Snapshot>(dataFile, { parse: JSON.parse, stringify: (data) => JSON.stringify(data) }), {
      v: 1,
      collections: {},
    });
    this.logPath = `${dataFile}.log`;
    this.lockPath = `${dataFile}.lock`;
  }

  async load(): Promise<Records> {
    await mkdir(dirname(this.dataFile), { recursive: true });
    await this.acquireLock();
    const records = emptyRecords();
    await this.readSnapshot(records);
    await this.replayLog(records);
    this.log = await open(this.logPath, 'a');
    if (this.fsyncIntervalMs > 0) {
      this.syncTimer = setInterval(() => void this.syncIfNeeded(), this.fsyncIntervalMs);
      this.syncTimer.unref();
    }
    return records;
  }

  async append(changes: readonly Change[]): Promise<void> {
    if (!this.log) throw new StoreFileError('the store is not open');
    // One line per batch (a JSON array of changes; a lone change keeps the plain one-change line). A crash can tear
    // only the last line, so a batch is replayed whole or not at all: the bot writes an event id with the job it
    // causes, and a form marked "submitting" with the job that posts it, and must never find one without the other
    // (found by test/reliability/torn-log.test.ts: a cut between lines left a form "submitting" with no job).
    const line = changes.length === 1 ? JSON.stringify(changes[0]) : JSON.stringify(changes);
    const bytes = Buffer.from(`${line}\n`);
    // A synchronous write costs a fraction of the promise-based one, and nothing can interleave with it.
    for (let written = 0; written < bytes.length; ) written += writeSync(this.log.fd, bytes, written);
    this.logChanges += changes.length;
    if (this.fsyncIntervalMs === 0) await this.log.datasync();
    else this.unsynced = true;
  }

  private async syncIfNeeded(): Promise<void> {
    if (!this.unsynced || !this.log) return;
    this.unsynced = false;
    await this.log.datasync().catch(() => {
      this.unsynced = true;
    });
  }

  async maybeCompact(records: Records, force = false): Promise<void> {
    if (!this.log || this.logChanges === 0) return;
    const size = COLLECTIONS.reduce((sum, name) => sum + records[name].size, 0);
    if (!force && this.logChanges < Math.max(MIN_LOG_CHANGES_BEFORE_COMPACTION, size)) return;
    this.snapshot.data = {
      v: 1,
      collections: Object.fromEntries(COLLECTIONS.map((name) => [name, Object.fromEntries(records[name])])),
    };
    await this.snapshot.write();
    // The snapshot now holds everything the log held; a crash before the truncation only replays changes
    // the snapshot already has, in order, which ends in the same state.
    await this.log.truncate(0);
    await this.log.datasync();
    this.logChanges = 0;
  }

  async close(): Promise<void> {
    clearInterval(this.syncTimer);
    await this.syncIfNeeded();
    await this.log?.close();
    this.log = undefined;
    if (this.lockHeld) await rm(this.lockPath, { force: true });
    this.lockHeld = false;
  }

  private async readSnapshot(records: Records): Promise<void> {
    try {
      await this.snapshot.read();
    } catch (error) {
      throw new StoreFileError(
        `DATA_FILE ${this.dataFile} is not readable JSON (${(error as Error).message}). It was left untouched: ` +
          'restore it from a backup or move it away to start empty.',
      );
    }
    const data = this.snapshot.data;
    if (data.v !== 1 || typeof data.collections !== 'object' || data.collections === null) {
      throw new StoreFileError(`DATA_FILE ${this.dataFile} is not a to-do bot store (version ${String(data.v)}). It was left untouched.`);
    }
    for (const name of COLLECTIONS) {
      for (const [key, value] of Object.entries(data.collections[name] ?? {})) records[name].set(key, value);
    }
  }

  private async replayLog(records: Records): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.logPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const lines = text.split('\n');
    /** Bytes of the log replayed so far, through the end of the last line applied. */
    let replayedBytes = 0;
    let torn = false;
    for (const [index, line] of lines.entries()) {
      const lineBytes = Buffer.byteLength(line) + (index < lines.length - 1 ? 1 : 0);
      if (line === '') {
        replayedBytes += lineBytes;
        continue;
      }
      let parsed: Change | Change[];
      try {
        parsed = JSON.parse(line) as Change | Change[];
      } catch {
        // Only the last line can be torn, by a crash in the middle of an append; it was never acknowledged.
        if (index >= lines.length - 2) {
          torn = true;
          break;
        }
        throw new StoreFileError(`${this.logPath} is corrupt at line ${index + 1}. It was left untouched.`);
      }
      const batch = (Array.isArray(parsed[0]) ? parsed : [parsed]) as Change[];
      for (const [collection, key, value] of batch) {
        if (!COLLECTIONS.includes(collection)) throw new StoreFileError(`${this.logPath} names an unknown collection at line ${index + 1}.`);
        if (value === null) records[collection].delete(key);
        else records[collection].set(key, value);
        this.logChanges++;
      }
      replayedBytes += lineBytes;
    }
    // The next append must start on a line of its own. Left in place, a torn tail would glue itself to the next
    // change written, and that line, acknowledged, would be dropped as torn at the next start (or, once more lines
    // follow it, stop the bot as "corrupt"). Found by test/reliability/torn-log.test.ts.
    if (torn) await truncate(this.logPath, replayedBytes);
    else if (text !== '' && !text.endsWith('\n')) await appendFile(this.logPath, '\n');
  }

  /**
   * One process per data file. A pid file rather than an mtime lock: a bot killed with SIGKILL must be able
   * to start again at once, and a dead pid says that the lock is free without waiting for it to go stale.
   */
  private async acquireLock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
        await handle.writeFile(String(process.pid));
        await handle.close();
        this.lockHeld = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new StoreFileError(`DATA_FILE ${this.dataFile} is in use by another bot process (pid ${holder}); stop it first.`);
      }
      await rm(this.lockPath, { force: true });
    }
    throw new StoreFileError(`could not lock DATA_FILE ${this.dataFile}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
