import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * The terms in which a store that several instances share (PostgreSQL) counts limits for the whole fleet: Feishu's
 * rate limits, as permits on a schedule, and the people's click throttles. The store offers them (`Store.sharedLimits`)
 * and the Feishu client and the bot take them, each without knowing the other: this module imports nothing of the bot.
 */

/** One limit a permit is taken from: permits at least `spacingMs` apart, or at most `cap` in any `windowMs`. */
export type PermitLimit = { key: string; spacingMs: number } | { key: string; windowMs: number; cap: number };

export interface Permit {
  /** When the permit may be used, in ms on the store's clock. */
  at: number;
  /** How long the caller waits for it. */
  waitMs: number;
  /** When, on this instance's `performance.now()` clock, the permit's time came at the earliest. */
  dueBy: number;
}

export type PermitAnswer = { granted: true; permit: Permit } | { granted: false; waitMs: number };

export interface SharedLimits {
  /**
   * Takes the next permit of every one of `limits`, at the earliest time they all allow, and writes it into each of
   * them before the next caller of those limits gets a turn; takes none when that time is more than `maxWaitMs` away.
   */
  reservePermit(limits: readonly PermitLimit[], maxWaitMs: number): Promise<PermitAnswer>;
  /** Forgets the limits of keys idle for minutes, so the store does not keep one per chat forever. */
  sweepPermits(): Promise<void>;
  /** A limiter counting each person's budget once for the whole fleet (for `ClickThrottle`). */
  throttleLimiter(options: { points: number; duration: number }): RateLimiterAbstract;
}
