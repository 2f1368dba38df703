import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { PermitAnswer, PermitLimit, SharedLimits } from '../../shared-limits';
import { type Database, type Statement, retried } from './database';

/**
 * The fleet's limits, held in PostgreSQL. A permit is one statement (`rate_acquire`, migration 0002), which gives it
 * the earliest time all its limits allow, on the database's clock, and writes it into each of them before the next
 * caller of those limits gets a turn. A spaced limit is GCRA with no burst; a windowed one lets at most `cap` permits
 * into any window. A permit further away than the caller may wait is refused whole, taking nothing from any limit.
 * What the limits are, and what a late permit means, is the caller's (src/feishu/fleet-rate-limiter.ts).
 */

/** Keys with no permit for this long are swept (longer than every window). */
const IDLE_MS = 2 * 60_000;

export class PostgresSharedLimits implements SharedLimits {
  private readonly acquireStatement: Statement;
  private readonly sweepStatement: Statement;

  constructor(private readonly db: Database) {
    this.acquireStatement = { name: 'rate.acquire', text: `SELECT granted, at, wait_ms, held_ms FROM ${db.s}.rate_acquire($1, $2, $3, $4, $5)` };
    this.sweepStatement = {
      name: 'rate.sweep',
      text: `WITH idle AS (
               SELECT key FROM ${db.s}.rate_limits WHERE last_at < extract(epoch FROM clock_timestamp()) * 1000 - $1 ORDER BY key FOR UPDATE SKIP LOCKED
             ), gone AS (DELETE FROM ${db.s}.rate_limits WHERE key IN (SELECT key FROM idle) RETURNING key)
             DELETE FROM ${db.s}.rate_limit_ring WHERE key IN (SELECT key FROM gone)`,
    };
  }

  async reservePermit(limits: readonly PermitLimit[], maxWaitMs: number): Promise<PermitAnswer> {
    const values = [
      limits.map((limit) => limit.key),
      limits.map((limit) => ('spacingMs' in limit ? limit.spacingMs : null)),
      limits.map((limit) => ('windowMs' in limit ? limit.windowMs : null)),
      limits.map((limit) => ('cap' in limit ? limit.cap : null)),
      maxWaitMs,
    ];
    // Timed from when the statement is sent (a connection of the pool in hand), plus the time the database waited
    // for the limits' rows, plus the wait: the permit's time came no earlier, so its lateness is never underestimated.
    // A permit is for a call a job makes: the background's turn at the pool.
    return this.db.background.withClient((client) =>
      retried(async () => {
        const sent = performance.now();
        const { rows } = await this.db.query<{ granted: boolean; at: number; wait_ms: number; held_ms: number }>(this.acquireStatement, values, client);
        const row = rows[0] as { granted: boolean; at: number; wait_ms: number; held_ms: number };
        if (!row.granted) return { granted: false, waitMs: row.wait_ms };
        const waitMs = Math.max(0, row.wait_ms);
        return { granted: true, permit: { at: row.at, waitMs, dueBy: sent + Math.max(0, row.held_ms) + waitMs } };
      }),
    );
  }

  async sweepPermits(): Promise<void> {
    await this.db.background.queryRetried(this.sweepStatement, [IDLE_MS]);
  }

  /**
   * rate-limiter-flexible's PostgreSQL limiter: each person's click budget counted once for the whole fleet, in
   * the `command_throttle` table migration 0002 creates (where commits spend the commands' budgets, migration 0010).
   * Windows are timed on each instance's clock (the library's choice), so the instances' clocks should agree to well
   * under a window (NTP does).
   */
  throttleLimiter(options: { points: number; duration: number }): RateLimiterPostgres {
    return new RateLimiterPostgres({
      ...options,
      storeClient: this.db.pool,
      storeType: 'pool',
      schemaName: this.db.schema,
      tableName: 'command_throttle',
      tableCreated: true,
    });
  }
}
