import { setTimeout as sleep } from 'node:timers/promises';
import type { Permit, SharedLimits } from '../shared-limits';
import {
  type AcquireOptions,
  FEISHU_LIMITS,
  type Limit,
  type LimitKeys,
  type LimitedMethod,
  type Limiter,
  RateLimitWaitTooLong,
  SPACING_SLACK,
  isWindowed,
  limitKey,
} from './rate-limits';

/**
 * Feishu's documented limits (the same table as each process's answer windows) held for the whole fleet: every instance
 * takes its permits from the store the instances share (`SharedLimits`; PostgreSQL's in src/store/postgres/).
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

/**
 * A permit's lateness that its call may still take: with the 6% slack a second of permits leaves room for about
 * three more, that is about 60 ms, shared with what happens after the permit (the request's way to Feishu).
 */
const LATE_MS = 25;
/** After this many permits taken again, a call goes however late it is (a stall that outlasts them all). */
const LATE_RETRIES = 2;

export class FleetRateLimiter implements Limiter {
  constructor(
    private readonly shared: Pick<SharedLimits, 'reservePermit' | 'sweepPermits'>,
    private readonly maxWaitMs: number,
    private readonly limits: Readonly<Partial<Record<LimitedMethod, readonly Limit[]>>> = FEISHU_LIMITS,
  ) {}

  /**
   * Resolves when every limit of `method` allows one more call now, fleet-wide, with the milliseconds spent waiting
   * for permits' times (not the round trips that took them); rejects with `signal`'s reason.
   */
  async acquire(method: LimitedMethod, keys: LimitKeys, signal?: AbortSignal, options: AcquireOptions = {}): Promise<number> {
    signal?.throwIfAborted();
    let permit = await this.reserve(method, keys, { perSecondOnly: options.afterRefusal === true });
    let heldMs = 0;
    for (let retry = 1; ; retry++) {
      if (permit.waitMs > 0) {
        const sleptFrom = performance.now();
        await sleep(permit.waitMs, undefined, { signal }).catch((error: unknown) => {
          throw signal?.aborted ? signal.reason : error;
        });
        heldMs += performance.now() - sleptFrom;
      }
      if (performance.now() - permit.dueBy <= LATE_MS || retry > LATE_RETRIES) return heldMs;
      signal?.throwIfAborted();
      permit = await this.reserve(method, keys, { perSecondOnly: true });
    }
  }

  /**
   * Takes the next permit of `method` in every one of its limits (only in its per-second ones, for a call that holds
   * the others already), or throws `RateLimitWaitTooLong` taking none.
   */
  async reserve(method: LimitedMethod, keys: LimitKeys, options: { perSecondOnly?: boolean } = {}): Promise<Permit> {
    const limits = (this.limits[method] ?? []).filter((limit) => !(options.perSecondOnly && isWindowed(limit)));
    if (limits.length === 0) return { at: Date.now(), waitMs: 0, dueBy: performance.now() };
    const answer = await this.shared.reservePermit(
      limits.map((limit) =>
        isWindowed(limit)
          ? { key: limitKey(method, limit, keys), windowMs: limit.perMs * SPACING_SLACK, cap: limit.cap }
          : { key: limitKey(method, limit, keys), spacingMs: (limit.perMs / limit.cap) * SPACING_SLACK },
      ),
      this.maxWaitMs,
    );
    if (!answer.granted) throw new RateLimitWaitTooLong(method, answer.waitMs);
    return answer.permit;
  }

  /** Forgets the keys of chats and messages idle for minutes. */
  async sweep(): Promise<void> {
    await this.shared.sweepPermits();
  }
}
