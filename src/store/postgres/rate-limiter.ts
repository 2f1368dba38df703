import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { FEISHU_LIMITS, type Limit, type LimitKeys, type LimitedMethod, type Limiter, RateLimitWaitTooLong, SPACING_SLACK } from '../../feishu/rate-limits';
import { type Database, type Statement, retried } from './database';

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
 *
 * The schedule holds only if each permit is used at its time. An instance that stalls (a long garbage collection, a
 * process the machine did not run for a while) would wake its held-back callers together, and they would go out with
 * the permits after theirs: more in one second than the spacing's slack allows. So a permit used more than `LATE_MS`
 * after its time, by this instance's own clock, is not used: its caller takes the next free time of the per-second
 * limits (the per-minute ones it holds already), at most `LATE_RETRIES` times.
 */

/** Keys with no permit for this long are swept (longer than every window). */
const IDLE_MS = 2 * 60_000;
/**
 * A permit's lateness that its call may still take: with the 6% slack a second of permits leaves room for about
 * three more, that is about 60 ms, shared with what happens after the permit (the request's way to Feishu).
 */
const LATE_MS = 25;
/** After this many permits taken again, a call goes however late it is (a stall that outlasts them all). */
const LATE_RETRIES = 2;

export interface Permit {
  /** When the permit may be used, in ms on the database's clock. */
  at: number;
  /** How long the caller waits for it. */
  waitMs: number;
  /** When, on this instance's `performance.now()` clock, the permit's time came at the earliest. */
  dueBy: number;
}

export class PostgresRateLimiter implements Limiter {
  private readonly acquireStatement: Statement;
  private readonly sweepStatement: Statement;

  constructor(
    private readonly db: Database,
    private readonly maxWaitMs: number,
    private readonly limits: Readonly<Partial<Record<LimitedMethod, readonly Limit[]>>> = FEISHU_LIMITS,
  ) {
    this.acquireStatement = { name: 'rate.acquire', text: `SELECT granted, at, wait_ms, held_ms FROM ${db.s}.rate_acquire($1, $2, $3, $4, $5)` };
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
    let permit = await this.reserve(method, keys);
    for (let retry = 1; ; retry++) {
      if (permit.waitMs > 0) {
        await sleep(permit.waitMs, undefined, { signal }).catch((error: unknown) => {
          throw signal?.aborted ? signal.reason : error;
        });
      }
      if (performance.now() - permit.dueBy <= LATE_MS || retry > LATE_RETRIES) return;
      signal?.throwIfAborted();
      permit = await this.reserve(method, keys, { perSecondOnly: true });
    }
  }

  /**
   * Takes the next permit of `method` in every one of its limits (only in its per-second ones, for a call that holds
   * the others already), or throws `RateLimitWaitTooLong` taking none.
   */
  async reserve(method: LimitedMethod, keys: LimitKeys, options: { perSecondOnly?: boolean } = {}): Promise<Permit> {
    const windowed = (limit: Limit) => limit.perMs > 1000;
    const limits = (this.limits[method] ?? []).filter((limit) => !(options.perSecondOnly && windowed(limit)));
    if (limits.length === 0) return { at: Date.now(), waitMs: 0, dueBy: performance.now() };
    const values = [
      limits.map((limit) => limitKey(method, limit, keys)),
      limits.map((limit) => (windowed(limit) ? null : (limit.perMs / limit.cap) * SPACING_SLACK)),
      limits.map((limit) => (windowed(limit) ? limit.perMs * SPACING_SLACK : null)),
      limits.map((limit) => (windowed(limit) ? limit.cap : null)),
      this.maxWaitMs,
    ];
    // Timed from when the statement is sent (a connection of the pool in hand), plus the time the database waited
    // for the limits' rows, plus the wait: the permit's time came no earlier, so its lateness is never underestimated.
    const client = await this.db.pool.connect();
    try {
      return await retried(async () => {
        const sent = performance.now();
        const { rows } = await this.db.query<{ granted: boolean; at: number; wait_ms: number; held_ms: number }>(this.acquireStatement, values, client);
        const row = rows[0] as { granted: boolean; at: number; wait_ms: number; held_ms: number };
        if (!row.granted) throw new RateLimitWaitTooLong(method, row.wait_ms);
        const waitMs = Math.max(0, row.wait_ms);
        return { at: row.at, waitMs, dueBy: sent + Math.max(0, row.held_ms) + waitMs };
      });
    } finally {
      client.release();
    }
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
