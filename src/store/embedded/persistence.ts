/**
 * How the record store keeps its data. The store holds every record in memory and reads from there;
 * a persistence only has to bring the records back at start and make each batch of changes durable.
 */

export const COLLECTIONS = ['forms', 'todos', 'chats', 'events', 'jobs'] as const;
export type CollectionName = (typeof COLLECTIONS)[number];

/** One change: a record written (value) or removed (null). */
export type Change = readonly [collection: CollectionName, key: string, value: unknown | null];

export type Records = Record<CollectionName, Map<string, unknown>>;

export function emptyRecords(): Records {
  return Object.fromEntries(COLLECTIONS.map((name) => [name, new Map()])) as Records;
}

export interface Persistence {
  /** Reads what is stored; throws a clear error, and changes nothing, when the data cannot be trusted. */
  load(): Promise<Records>;
  /** Makes the changes durable, in order; resolves only once they would survive a crash of the process. */
  append(changes: readonly Change[]): Promise<void>;
  /** May fold the change log into a fresh snapshot of `records`; cheap to call, decides itself when to work. */
  maybeCompact(records: Records, force?: boolean): Promise<void>;
  close(): Promise<void>;
}

export class MemoryPersistence implements Persistence {
  async load(): Promise<Records> {
    return emptyRecords();
  }
  async append(): Promise<void> {}
  async maybeCompact(): Promise<void> {}
  async close(): Promise<void> {}
}
