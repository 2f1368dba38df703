import { type Change, type CollectionName, type Persistence, type Records, emptyRecords } from './persistence';

/**
 * Records in memory, changes made durable in batches. Reads and writes are synchronous on the maps, so a
 * check-and-change inside one tick is atomic (two Submit clicks cannot both win); `flush()` then waits until
 * every change made so far is durable. Changes made while a batch is being written ride in the next batch,
 * so the cost of durability is one append per batch, whatever the number of records.
 */
export class RecordStore {
  private records: Records = emptyRecords();
  private staged: Change[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** The batch that will be written at the end of this turn of the event loop, if one is due. */
  private nextBatch: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(private readonly persistence: Persistence) {}

  /** False once a write failed: from then on every flush is refused (see writeBatch). */
  get writable(): boolean {
    return this.failure === undefined;
  }

  async open(): Promise<void> {
    this.records = await this.persistence.load();
  }

  get<T>(collection: CollectionName, key: string): T | undefined {
    return this.records[collection].get(key) as T | undefined;
  }

  values<T>(collection: CollectionName): IterableIterator<T> {
    return this.records[collection].values() as IterableIterator<T>;
  }

  entries<T>(collection: CollectionName): Array<[string, T]> {
    return [...this.records[collection]] as Array<[string, T]>;
  }

  count(collection: CollectionName): number {
    return this.records[collection].size;
  }

  put(collection: CollectionName, key: string, value: unknown): void {
    this.records[collection].set(key, value);
    this.staged.push([collection, key, value]);
  }

  delete(collection: CollectionName, key: string): void {
    if (!this.records[collection].delete(key)) return;
    this.staged.push([collection, key, null]);
  }

  /** Resolves once every change made before the call is durable. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.staged.length === 0) return this.writing;
    // Group commit: the batch is written once the event loop has handled every request that arrived with this one,
    // so pushes that come together share one append instead of one each.
    this.nextBatch ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.nextBatch = undefined;
        this.writing = this.writing.then(() => this.writeBatch());
        this.writing.then(resolve, reject);
      });
    });
    return this.nextBatch;
  }

  /**
   * Lets the persistence fold its log into a snapshot when it thinks it is time (or now, when forced). Writes go on
   * while it works; a failed snapshot is tried again later and loses nothing (its sealed log is kept).
   */
  compact(force = false): Promise<void> {
    return this.persistence.maybeCompact(this.records, force);
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.compact(true).catch(() => undefined);
    await this.persistence.close();
  }

  private async writeBatch(): Promise<void> {
    const batch = this.staged;
    this.staged = [];
    if (batch.length === 0) return;
    try {
      await this.persistence.append(batch);
    } catch (error) {
      // A failed write leaves memory ahead of disk; refusing every later flush keeps the bot from acknowledging
      // work it cannot keep.
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw this.failure;
    }
    this.compact().catch(() => undefined);
  }
}
