import PQueue from 'p-queue';
import pg from 'pg';
import type { Logger } from '../../log';
import { CONNECT_TIMEOUT_MS, DEFAULT_POOL_SIZE, DEFAULT_SCHEMA, QUERY_TIMEOUT_MS, SCHEMA_NAME, type SynchronousCommit } from './settings';

/**
 * The connection pool of one store, and its transactions. Every table name is qualified with the store's schema, so
 * several stores (the tests' suites, or two bots) can share a database without sharing data, and nothing depends on
 * a session's `search_path` (which a transaction-mode connection pooler would not keep).
 */

export interface PostgresOptions {
  /** A `postgres://` URL, as node-postgres reads it. */
  url: string;
  /** The schema holding the tables; created at `open()` when missing. Default `public`. */
  schema?: string;
  /** Connections this instance keeps open at most. Default 10. */
  poolSize?: number;
  /** `synchronous_commit` for this store's connections; the server's own setting when absent. */
  synchronousCommit?: SynchronousCommit;
  /** How long a statement may go without an answer before it fails. Default `QUERY_TIMEOUT_MS`. */
  queryTimeoutMs?: number;
  logger?: Logger | undefined;
}

/** A turn's priority at the pool (p-queue runs the highest first). */
const INTERACTIVE = 1;
const BACKGROUND = 0;

/** Deadlocks and serialisation failures: the transaction did nothing and can simply run again. */
const RETRYABLE_CODES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 8;

/** A statement with a stable name, so each connection parses and plans it once. */
export interface Statement {
  name: string;
  text: string;
}

export type Queryable = pg.Pool | pg.PoolClient;

export class Database {
  readonly pool: pg.Pool;
  /**
   * One connection for lease renewals alone: a renewal queued behind the pool's ordinary work (a burst of commits and
   * claims holding every connection) could come too late, and the job lose its lease while it runs.
   */
  readonly leasePool: pg.Pool;
  /**
   * Turns at `pool`'s connections, one per connection: node-postgres serves a pool's callers in turn, and a click's
   * few statements queued behind a burst of jobs' (in the fleet soak 10-20 waiting, clicks of 0.4-0.9 s, and past the
   * answer's 2.5 s on a busy machine). Here a click, which a person watches, goes first; the background (`background`)
   * takes the connections it leaves, all of them when it needs none.
   */
  private readonly turns: PQueue;
  private readonly priority: number = INTERACTIVE;
  /**
   * This database for the work no person watches (the pushes' group commits, the outbox, the jobs' reads and commits,
   * the scheduled tasks, the rate limits' permits): the same pool, its turns after the clicks'. An object whose
   * prototype is this.
   */
  readonly background: Database;
  readonly schema: string;
  /** The schema, quoted, for qualifying table names in SQL text. */
  readonly s: string;

  constructor(readonly options: PostgresOptions) {
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    if (!SCHEMA_NAME.test(this.schema)) throw new Error(`schema "${this.schema}" is not a plain lower-case name (letters, digits, _)`);
    this.s = pg.escapeIdentifier(this.schema);
    const pool = (max: number, applicationName: string) =>
      new pg.Pool({
        connectionString: options.url,
        max,
        application_name: applicationName,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        // On timeout the query fails, and its connection is discarded (by the pool after a failed `pool.query`, by
        // `transaction` after a statement of its own): the statement's answer may still come, or never.
        query_timeout: options.queryTimeoutMs ?? QUERY_TIMEOUT_MS,
        // A startup parameter, so it costs no round trip.
        ...(options.synchronousCommit && { options: `-c synchronous_commit=${options.synchronousCommit}` }),
      });
    const size = options.poolSize ?? DEFAULT_POOL_SIZE;
    this.pool = pool(size, 'feishu-todo-bot');
    this.turns = new PQueue({ concurrency: size });
    this.leasePool = pool(1, 'feishu-todo-bot leases');
    this.background = Object.assign(Object.create(this) as Database, { priority: BACKGROUND });
    // An idle connection the server dropped (a restart, a failover) is replaced on next use; without a listener the
    // pool's error event would end the process.
    for (const idle of [this.pool, this.leasePool]) {
      idle.on('error', (error) => options.logger?.warn({ err: error }, 'PostgreSQL dropped an idle connection'));
    }
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: Statement | string,
    values: unknown[] = [],
    on: Queryable = this.pool,
  ): Promise<pg.QueryResult<R>> {
    const run = () => (typeof statement === 'string' ? on.query<R>(statement, values) : on.query<R>({ ...statement, values }));
    return on === this.pool ? this.connected(run) : run();
  }

  /** Runs `work` in a turn at the pool (see `turns`): within it a connection is free, or opened, at once. */
  private connected<T>(work: () => Promise<T>): Promise<T> {
    return this.turns.add(work, { priority: this.priority });
  }

  /**
   * Runs `work` on one connection of the pool, taken in a turn and given back after. When `work` fails, `cleanUp`
   * says whether the connection is unusable (then it is discarded): by default when a statement on it got no answer
   * in time, since the statement may still be running there.
   */
  withClient<T>(work: (client: pg.PoolClient) => Promise<T>, cleanUp: CleanUp = timedOut): Promise<T> {
    return this.connected(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        return await work(client);
      } catch (error) {
        broken = await cleanUp(client, error);
        throw error;
      } finally {
        client.release(broken);
      }
    });
  }

  /** Requests waiting for a turn at the pool, the clicks' and the background's. */
  get waiting(): number {
    return this.turns.size;
  }

  /**
   * Runs `work` in one transaction (READ COMMITTED) on one connection, committing when it returns and rolling back
   * when it throws. A deadlock or serialisation failure is retried here, with a short random pause, never surfaced
   * (unless `retry` is false: work that consumes its input cannot run twice).
   */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>, { retry = true } = {}): Promise<T> {
    const once = () =>
      this.withClient(async (client) => {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      }, rollback);
    return retry ? retried(once) : once();
  }

  /** One statement in a transaction of its own, retried as `transaction` retries (on `on`, the pool by default). */
  queryRetried<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: Statement | string,
    values: unknown[] = [],
    on: pg.Pool = this.pool,
  ): Promise<pg.QueryResult<R>> {
    return retried(() => this.query<R>(statement, values, on));
  }

  async end(): Promise<void> {
    await Promise.all([this.pool.end(), this.leasePool.end()]);
  }
}

/** Runs `attempt` again after a deadlock or serialisation failure (it did nothing), with a short random pause. */
export async function retried<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= MAX_ATTEMPTS || !RETRYABLE_CODES.has((error as { code?: string }).code ?? '')) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * n));
    }
  }
}

/** node-postgres's error for a statement that got no answer within `query_timeout` (it carries no code). */
function isQueryTimeout(error: unknown): error is Error {
  return error instanceof Error && error.message === 'Query read timeout';
}

/** After `work` failed on a connection: an error when the connection is unusable (it is then discarded). */
type CleanUp = (client: pg.PoolClient, cause: unknown) => Promise<Error | undefined>;

/** Unusable after a statement that got no answer in time. */
async function timedOut(_client: pg.PoolClient, cause: unknown): Promise<Error | undefined> {
  return isQueryTimeout(cause) ? cause : undefined;
}

/** Rolls back after a failure; returns an error when the connection itself is unusable (it is then discarded). */
async function rollback(client: pg.PoolClient, cause: unknown): Promise<Error | undefined> {
  // A ROLLBACK would queue behind a statement that got no answer and wait out a timeout of its own, the connection and
  // the caller held meanwhile; the server rolls back a transaction whose connection has gone.
  if (isQueryTimeout(cause)) return cause;
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}
