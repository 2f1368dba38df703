import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { FEISHU_LIMITS, type Limit, type LimitKeys, type LimitedMethod, type Limiter, RateLimitWaitTooLong, SPACING_SLACK } from '../../feishu/rate-limits';
import type { Database, Statement } from './database';

/**
 * Feishu's documented limits (the same table and contract as `RateLimiter` in src/feishu/rate-limits.ts) held for
 * the whole fleet: every instance takes its permits from PostgreSQL, in one statement per permit
 * (`rate_acquire`, migration 0002), which gives the permit the earliest time all the method's limits allow, on the
 * database's clock, and writes it into each of them before the next caller of those limits gets a turn.
 *
 * A per-second limit spaces permits evenly, 6% further apart than the limit (GCRA with no burst): a send delayed by a
 * busy event loop by less than that can never make one too many in any rolling second, and the schedule does not
 * drift with late timers, since each time follows from the previous permit's time, not from when it was used. A
 * per-minute limit lets at most its number of permits into any window 6% longer than a minute, so it may be spent
 * in a burst that the per-second limits pace, as the in-process limiter does.
 *
 * A permit further away than `maxWaitMs` is refused whole (`RateLimitWaitTooLong`), taking nothing from any limit.
 * A caller aborted while waiting for its time gives up its permit: the time stays taken, which only leaves Feishu
 * room to spare.
 */

/** Keys with no permit for this long are swept (longer than every window). */
const IDLE_MS = 2 * 60_000;

export interface Permit {
  /** When the permit may be used, in ms on the database's clock. */
  at: number;
  /** How long the caller waits for it. */
  waitMs: number;
}

export class PostgresRateLimiter implements Limiter {
  private readonly acquireStatement: Statement;
  private readonly sweepStatement: Statement;

  constructor(
    private readonly db: Database,
    private readonly maxWaitMs: number,
    private readonly limits: Readonly<Partial<Record<LimitedMethod, readonly Limit[]>>> = FEISHU_LIMITS,
  ) {
    this.acquireStatement = { name: 'rate.acquire', text: `SELECT granted, at, wait_ms FROM ${db.s}.rate_acquire($1, $2, $3, $4, $5)` };
    this.sweepStatement = {
      name: 'rate.sweep',
      text: `WITH idle AS (
               SELECT key FROM ${db.s}.rate_limits WHERE last_at < extract(epoch FROM clock_timestamp()) * 1000 - $1 ORDER BY key FOR UPDATE SKIP LOCKED
             ), gone AS (DELETE FROM ${db.s}.rate_limits WHERE key IN (SELECT key FROM idle) RETURNING key)
             DELETE FROM ${db.s}.rate_limit_ring WHERE key IN (SELECT key FROM gone)`,
    };
  }

  /** Resolves when every limit of `method` allows one more call now, fleet-wide; rejects with `signal`'s reason. */
  async acquire(method: LimitedMethod, keys: LimitKeys, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { waitMs } = await this.reserve(method, keys);
    if (waitMs > 0) {
      await sleep(waitMs, undefined, { signal }).catch((error: unknown) => {
        throw signal?.aborted ? signal.reason : error;
      });
    }
  }

  /** Takes the next permit of `method` in every one of its limits, or throws `RateLimitWaitTooLong` taking none. */
  async reserve(method: LimitedMethod, keys: LimitKeys): Promise<Permit> {
    const limits = this.limits[method] ?? [];
    if (limits.length === 0) return { at: Date.now(), waitMs: 0 };
    const windowed = (limit: Limit) => limit.perMs > 1000;
    const { rows } = await this.db.queryRetried<{ granted: boolean; at: number; wait_ms: number }>(this.acquireStatement, [
      limits.map((limit) => limitKey(method, limit, keys)),
      limits.map((limit) => (windowed(limit) ? null : (limit.perMs / limit.cap) * SPACING_SLACK)),
      limits.map((limit) => (windowed(limit) ? limit.perMs * SPACING_SLACK : null)),
      limits.map((limit) => (windowed(limit) ? limit.cap : null)),
      this.maxWaitMs,
    ]);
    const row = rows[0] as { granted: boolean; at: number; wait_ms: number };
    if (!row.granted) throw new RateLimitWaitTooLong(method, row.wait_ms);
    return { at: row.at, waitMs: Math.max(0, row.wait_ms) };
  }

  /** Forgets the keys of chats and messages idle for minutes, so the table does not keep one per chat forever. */
  async sweep(): Promise<void> {
    await this.db.queryRetried(this.sweepStatement, [IDLE_MS]);
  }
}

/** The same key the in-process limiter gives each queue: method, scope and its id, window. */
function limitKey(method: LimitedMethod, limit: Limit, keys: LimitKeys): string {
  const id = limit.scope === 'chat' ? keys.chatId : limit.scope === 'message' ? keys.messageId : 'app';
  return `${method}|${limit.scope}:${id ?? '-'}|${limit.perMs}`;
}

/**
 * rate-limiter-flexible's PostgreSQL limiter, for `CommandThrottle`: each person's command budget counted once for the
 * whole fleet, in the `command_throttle` table migration 0002 creates. Windows are timed on each instance's clock
 * (the library's choice), so the instances' clocks should agree to well under a window (NTP does).
 */
export function sharedThrottleLimiter(db: Database): (options: { points: number; duration: number }) => RateLimiterPostgres {
  return (options) =>
    new RateLimiterPostgres({ ...options, storeClient: db.pool, storeType: 'pool', schemaName: db.schema, tableName: 'command_throttle', tableCreated: true });
}
