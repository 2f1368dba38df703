import type { ThrottleLimiter } from '../bot/throttle';
import type { StoreConfig } from '../config';
import type { Limiter } from '../feishu/rate-limits';
import type { Logger } from '../log';
import { EmbeddedStore } from './embedded/embedded-store';
import { FilePersistence } from './embedded/snapshot-log';
import { describeDatabase } from './postgres/settings';
import type { Store } from './store';

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

/**
 * Where Feishu's rate limits and the people's throttles are counted: in each process for a store of one process
 * (the defaults), in the shared database for a store several instances share, so the limits hold for the fleet.
 */
export async function fleetLimits(store: Store): Promise<{ limiter?: (maxWaitMs: number) => Limiter; throttle?: ThrottleLimiter }> {
  if (store instanceof EmbeddedStore) return {};
  const [{ PostgresStore }, { PostgresRateLimiter, sharedThrottleLimiter }] = await Promise.all([import('./postgres/postgres-store'), import('./postgres/rate-limiter')]);
  if (!(store instanceof PostgresStore)) return {};
  const db = store.database;
  return { limiter: (maxWaitMs) => new PostgresRateLimiter(db, maxWaitMs), throttle: sharedThrottleLimiter(db) };
}
