import { renameSync, writeSync } from 'node:fs';
import { type FileHandle, appendFile, mkdir, open, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TextFile } from 'lowdb/node';
import { CodedError, ErrorCode } from '../../errors';
import { DataFileLock, describeHolder } from './file-lock';
import { COLLECTIONS, type Change, type Persistence, type Records, emptyRecords } from './persistence';

/**
 * The default store on disk: a snapshot (`DATA_FILE`, read by lowdb's TextFile adapter, written beside and renamed
 * over, each step fsynced) plus an append-only change log (`DATA_FILE.log`, one JSON line per batch of changes).
 * lowdb alone rewrites the whole file on every write, so a write would cost more as data grows; here a write costs
 * one appended line, and the snapshot is rewritten only when the log has grown as large as the data, which keeps
 * the amortised cost per change flat.
 *
 * A snapshot never stops the bot. The log is sealed (renamed `DATA_FILE.log.sealed`) and a fresh one takes the
 * appends that follow; the snapshot is then serialised a few milliseconds at a time between requests, so it may
 * catch records changed after the seal. That is safe because every change is a whole record written or removed,
 * replayed in order: the snapshot, then the sealed log, then the log give every record its last written value,
 * whichever copy the snapshot caught. Once the snapshot is durable the sealed log is deleted; a crash at any
 * point leaves files that load to the same state (test/reliability/snapshot-crash.test.ts).
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

export class StoreFileError extends CodedError {
  readonly code = ErrorCode.StoreFileUnusable;
}

const MIN_LOG_CHANGES_BEFORE_COMPACTION = 10_000;
export const DEFAULT_FSYNC_INTERVAL_MS = 1_000;
/** The longest a snapshot holds the event loop at a time before letting requests in. */
const SNAPSHOT_SLICE_MS = 2;
/** After a failed snapshot (a full disk, say) the next try waits this long; the log keeps everything meanwhile. */
const SNAPSHOT_RETRY_MS = 30_000;
/**
 * The store holds to-do text and user ids: its folder and files are the bot's alone. Modes are given at creation,
 * where a umask can only remove bits, so a permissive umask cannot widen them.
 */
const DIRECTORY_MODE = 0o700;
const FILE_MODE = 0o600;

export class FilePersistence implements Persistence {
  private readonly snapshotFile: TextFile;
  private readonly logPath: string;
  private readonly sealedLogPath: string;
  /** Where a new snapshot is written before it is renamed over the old one. */
  private readonly snapshotTempPath: string;
  /** The fresh log a seal opens before swapping it in. */
  private readonly nextLogPath: string;
  private readonly lockPath: string;
  private log: FileHandle | undefined;
  private lock: DataFileLock | undefined;
  private logChanges = 0;
  private unsynced = false;
  /**
   * A background fsync that failed: the kernel may have dropped the pages it could not write and cleared the error,
   * so a later fsync "succeeding" proves nothing. Every later append is refused, as after a failed write.
   */
  private syncFailure: Error | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private compacting: Promise<void> | undefined;
  /** A sealed log is on disk that no durable snapshot covers yet: it must not be sealed over. */
  private sealedPending = false;
  private retrySnapshotAt = 0;
  /** Snapshots written since start, and the time spent writing them (serialising, writing, fsyncing). */
  readonly snapshotStats = { count: 0, ms: 0 };

  constructor(
    private readonly dataFile: string,
    private readonly fsyncIntervalMs = DEFAULT_FSYNC_INTERVAL_MS,
  ) {
    this.snapshotFile = new TextFile(dataFile);
    this.logPath = `${dataFile}.log`;
    this.sealedLogPath = `${dataFile}.log.sealed`;
    this.snapshotTempPath = `${dataFile}.tmp`;
    this.nextLogPath = `${dataFile}.log.next`;
    this.lockPath = `${dataFile}.lock`;
  }

  async load(): Promise<Records> {
    await mkdir(dirname(this.dataFile), { recursive: true, mode: DIRECTORY_MODE });
    await this.acquireLock();
    try {
      return await this.loadLocked();
    } catch (error) {
      await this.lock?.release();
      this.lock = undefined;
      throw error;
    }
  }

  private async loadLocked(): Promise<Records> {
    const records = emptyRecords();
    await this.readSnapshot(records);
    // A snapshot interrupted by a crash left its sealed log behind: it comes before the log, and is folded at once.
    const sealedLeft = await this.replayLog(this.sealedLogPath, records);
    this.logChanges = 0;
    await this.replayLog(this.logPath, records);
    this.log = await open(this.logPath, 'a', FILE_MODE);
    // A snapshot cut short by a crash may leave its half-written file, or the empty log it was about to swap in;
    // the old snapshot and the logs, untouched, are what was read.
    for (const leftover of [this.snapshotTempPath, this.nextLogPath]) await rm(leftover, { force: true });
    if (sealedLeft) {
      await this.writeSnapshot(records);
      await rm(this.sealedLogPath, { force: true });
    }
    if (this.fsyncIntervalMs > 0) {
      this.syncTimer = setInterval(() => void this.syncIfNeeded(), this.fsyncIntervalMs);
      this.syncTimer.unref();
    }
    return records;
  }

  async append(changes: readonly Change[]): Promise<void> {
    if (!this.log) throw new StoreFileError('the store is not open');
    if (this.syncFailure) throw this.syncFailure;
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
    if (!this.unsynced || !this.log || this.syncFailure) return;
    this.unsynced = false;
    await this.log.datasync().catch((error: unknown) => {
      this.syncFailure = error instanceof Error ? error : new Error(String(error));
    });
  }

  /** Starts a snapshot when the log has grown as large as the data (or now, when forced); appends go on meanwhile. */
  async maybeCompact(records: Records, force = false): Promise<void> {
    if (this.compacting) {
      await this.compacting;
      if (!force) return;
    }
    if (!this.log || (this.logChanges === 0 && !this.sealedPending)) return;
    const size = COLLECTIONS.reduce((sum, name) => sum + records[name].size, 0);
    if (!force && (this.logChanges < Math.max(MIN_LOG_CHANGES_BEFORE_COMPACTION, size) || performance.now() < this.retrySnapshotAt)) return;
    this.compacting = this.compact(this.log, records)
      .catch((error: unknown) => {
        this.retrySnapshotAt = performance.now() + SNAPSHOT_RETRY_MS;
        throw error;
      })
      .finally(() => {
        this.compacting = undefined;
      });
    await this.compacting;
  }

  private async compact(current: FileHandle, records: Records): Promise<void> {
    const started = performance.now();
    // After a failed snapshot the sealed log is still needed; the current log goes on, and the retry covers both.
    if (!this.sealedPending) await this.seal(current);
    await this.writeSnapshot(records);
    await rm(this.sealedLogPath, { force: true });
    this.sealedPending = false;
    this.snapshotStats.count++;
    this.snapshotStats.ms += performance.now() - started;
  }

  private async seal(current: FileHandle): Promise<void> {
    const fresh = await open(this.nextLogPath, 'a', FILE_MODE);
    // Sealed and replaced in one synchronous step, so no append can fall between the two logs.
    renameSync(this.logPath, this.sealedLogPath);
    try {
      renameSync(this.nextLogPath, this.logPath);
    } catch (error) {
      renameSync(this.sealedLogPath, this.logPath);
      await fresh.close();
      throw error;
    }
    this.sealedPending = true;
    this.log = fresh;
    this.logChanges = 0;
    // Until the snapshot is durable, the sealed log is the only durable copy of what it holds.
    await current.datasync();
    await current.close();
  }

  /**
   * Serialises the records a slice at a time and streams each slice to a file beside the snapshot, then fsyncs it,
   * renames it over the old one and fsyncs the rename: the sealed log is deleted next, so at no moment may a power
   * cut leave neither snapshot whole (lowdb's own writer, steno, renames without an fsync). Holding the whole text
   * instead, one string or 35 MB of buffers at 100k records, cost the event loop 40-90 ms in joins and collections.
   */
  private async writeSnapshot(records: Records): Promise<void> {
    const file = await open(this.snapshotTempPath, 'w', FILE_MODE);
    try {
      let parts: string[] = ['{"v":1,"collections":{'];
      const writeOut = async () => {
        const chunk = parts.join('');
        parts = [];
        await writeFile(file, chunk);
      };
      let sliceStarted = performance.now();
      let sinceCheck = 0;
      for (const [index, name] of COLLECTIONS.entries()) {
        parts.push(`${index > 0 ? ',' : ''}${JSON.stringify(name)}:{`);
        let first = true;
        // A Map iterator stays valid while the map changes between slices: it sees later values, never a torn one.
        for (const [key, value] of records[name]) {
          parts.push(`${first ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`);
          first = false;
          if (++sinceCheck < 256) continue;
          sinceCheck = 0;
          if (performance.now() - sliceStarted < SNAPSHOT_SLICE_MS) continue;
          await writeOut();
          sliceStarted = performance.now();
        }
        parts.push('}');
      }
      parts.push('}}');
      await writeOut();
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(this.snapshotTempPath, this.dataFile);
    const directory = await open(dirname(this.dataFile), 'r');
    await directory.sync().finally(() => directory.close());
  }

  async close(): Promise<void> {
    clearInterval(this.syncTimer);
    await this.compacting?.catch(() => undefined);
    await this.syncIfNeeded();
    await this.log?.close();
    this.log = undefined;
    await this.lock?.release();
    this.lock = undefined;
  }

  private async readSnapshot(records: Records): Promise<void> {
    let data: Snapshot;
    try {
      const text = await this.snapshotFile.read();
      if (text === null) return;
      data = JSON.parse(text) as Snapshot;
    } catch (error) {
      throw new StoreFileError(
        `DATA_FILE ${this.dataFile} is not readable JSON (${(error as Error).message}). It was left untouched: ` +
          'restore it from a backup or move it away to start empty.',
      );
    }
    if (data?.v !== 1 || typeof data.collections !== 'object' || data.collections === null) {
      throw new StoreFileError(`DATA_FILE ${this.dataFile} is not a to-do bot store (version ${String(data?.v)}). It was left untouched.`);
    }
    for (const name of COLLECTIONS) {
      for (const [key, value] of Object.entries(data.collections[name] ?? {})) records[name].set(key, value);
    }
  }

  /** Applies a log's changes in order; returns whether the log existed. */
  private async replayLog(path: string, records: Records): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
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
        throw new StoreFileError(`${path} is corrupt at line ${index + 1}. It was left untouched.`);
      }
      const batch = (Array.isArray(parsed[0]) ? parsed : [parsed]) as Change[];
      for (const [collection, key, value] of batch) {
        if (!COLLECTIONS.includes(collection)) throw new StoreFileError(`${path} names an unknown collection at line ${index + 1}.`);
        if (value === null) records[collection].delete(key);
        else records[collection].set(key, value);
        this.logChanges++;
      }
      replayedBytes += lineBytes;
    }
    // The next append must start on a line of its own. Left in place, a torn tail would glue itself to the next
    // change written, and that line, acknowledged, would be dropped as torn at the next start (or, once more lines
    // follow it, stop the bot as "corrupt"). Found by test/reliability/torn-log.test.ts.
    if (torn) await truncate(path, replayedBytes);
    else if (text !== '' && !text.endsWith('\n')) await appendFile(path, '\n');
    return true;
  }

  /** One process per data file (see file-lock.ts): a holder that died never blocks a start. */
  private async acquireLock(): Promise<void> {
    const acquired = await DataFileLock.acquire(this.lockPath);
    if (!(acquired instanceof DataFileLock)) throw new StoreFileError(describeHolder(this.dataFile, acquired.heldBy));
    this.lock = acquired;
  }
}
