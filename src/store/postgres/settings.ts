import { CodedError, ErrorCode } from '../../errors';

/**
 * What the PostgreSQL store accepts for its settings, in a module of its own so that the configuration can check
 * them without loading the driver.
 */

export const DEFAULT_SCHEMA = 'public';
export const DEFAULT_POOL_SIZE = 10;

/**
 * PostgreSQL's `synchronous_commit` for the store's connections. `on` (the server's default): a commit is acknowledged
 * once its WAL is flushed to disk. `off`: as soon as it is written, flushed within about 0.6 s; a crash of the
 * database server (never of the bot) can lose that much, the same trade as the file store's `STORE_FSYNC_MS`.
 */
export const SYNCHRONOUS_COMMIT = ['on', 'off', 'local', 'remote_write', 'remote_apply'] as const;
export type SynchronousCommit = (typeof SYNCHRONOUS_COMMIT)[number];

/** How long opening a connection may take before it fails (an unreachable host would otherwise hang for minutes). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long any statement may go without an answer before it fails and its connection is discarded. The bot's loops
 * take one statement at a time (a group of pushes, a claim of jobs, a renewal of leases), and everything after one
 * waits for it: a connection whose server vanished without a word (a failover that moves the address, a network path
 * gone dark) would otherwise hold a loop, and every push behind a group commit, until TCP gives up, about 15 minutes.
 * Every statement answers in milliseconds when the database is well (the hourly prune works in batches to stay so);
 * Feishu itself waits 3 s for an answer to a push.
 */
export const QUERY_TIMEOUT_MS = 10_000;

/** A plain lower-case identifier: it becomes part of table names, lock keys and the notification channel (63 bytes). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** Why `url` cannot be a PostgreSQL connection URL, in a sentence that shows no part of it but its scheme; or undefined. */
export function postgresUrlProblem(url: string): string | undefined {
  const example = 'postgres://user:password@host:5432/database';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `is not a URL: write it as ${example}`;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') return `must start with postgres:// or postgresql://, not ${parsed.protocol}//`;
  if (parsed.pathname.length <= 1) return `names no database: add it after the host, as in ${example}`;
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    return 'has a broken %-escape in its user name or password: write a % as %25';
  }
  return undefined;
}

/** Where a database is, for messages: host and database, never the user or password. */
export function describeDatabase(url: string, schema: string): string {
  try {
    const parsed = new URL(url);
    return `PostgreSQL at ${parsed.host || 'the local socket'}${parsed.pathname}, schema ${schema}`;
  } catch {
    return `PostgreSQL (an unreadable URL), schema ${schema}`;
  }
}

/**
 * The database cannot be reached, or refused the migrations: says which one, and why, without the password. Here
 * rather than beside the store so that start-up can recognise it without loading the PostgreSQL driver.
 */
export class StoreOpenError extends CodedError {
  readonly code = ErrorCode.StoreOpenFailed;

  constructor(url: string, schema: string, cause: unknown) {
    super(`cannot open the store in ${describeDatabase(url, schema)}: ${(cause as Error).message ?? cause}`, { cause });
  }
}
