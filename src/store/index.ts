import type { Logger } from '../log';
import { EmbeddedStore } from './embedded/embedded-store';
import { FilePersistence } from './embedded/snapshot-log';
import { type SynchronousCommit, describeDatabase } from './postgres/settings';
import type { Store } from './store';

/** What the store is built from (read from the environment by src/config.ts). */
export interface StoreConfig {
  readonly dataFile: string;
  /** How often the store's change log is fsynced; 0: before every acknowledgement. */
  readonly storeFsyncMs: number;
  /** PostgreSQL, shared by every instance, when set; the file at `dataFile` otherwise. */
  readonly databaseUrl?: string;
  /** The schema holding the bot's tables. */
  readonly databaseSchema: string;
  /** Connections each instance keeps open at most. */
  readonly databasePoolSize: number;
  /** When PostgreSQL acknowledges a commit (`off`: before it is flushed to disk); unset, as the server says. */
  readonly databaseSynchronousCommit?: SynchronousCommit;
}

/**
 * The store the configuration asks for, not yet opened: PostgreSQL, shared by any number of instances, when
 * `DATABASE_URL` is set; otherwise the file at `DATA_FILE`, for one process. The PostgreSQL adapter (its driver and
 * migration tool) is loaded only when asked for: a bot on its file store starts without them.
 */
export async function createStore(config: StoreConfig, options: { logger?: Logger } = {}): Promise<Store> {
  if (config.databaseUrl === undefined) return new EmbeddedStore(new FilePersistence(config.dataFile, config.storeFsyncMs));
  const { PostgresStore } = await import('./postgres/postgres-store');
  const { databaseSchema: schema, databasePoolSize: poolSize, databaseSynchronousCommit: synchronousCommit } = config;
  return new PostgresStore({ url: config.databaseUrl, schema, poolSize, ...(synchronousCommit && { synchronousCommit }), logger: options.logger });
}

/** `createStore`, opened: ready for reads and commits, or a clear error. */
export async function openStore(config: StoreConfig, options: { logger?: Logger } = {}): Promise<Store> {
  const store = await createStore(config, options);
  await store.open();
  return store;
}

/** Where the configured store keeps its data, for messages (never the password). */
export function describeStore(config: StoreConfig): string {
  return config.databaseUrl === undefined ? `the file store at ${config.dataFile}` : describeDatabase(config.databaseUrl, config.databaseSchema);
}
