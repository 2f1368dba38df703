import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * One person clicking a card over and over must not crowd out everyone else. Each person gets a budget of clicks per
 * window on each card; the first click over it is told so, the rest quietly until the window passes. The verdict
 * asks Feishu nothing (it is counted in this process, or for a fleet in the shared database), so it is made before
 * anything is read or stored. Commands have the same kind of budget, spent in the commit that stores them
 * (`Commit.budget`).
 */
export type ThrottleVerdict = 'allow' | 'warn' | 'drop';

/** Where the budgets are counted: in this process by default, or for the whole fleet (the store's `SharedLimits`). */
export type ThrottleLimiter = (options: { points: number; duration: number }) => RateLimiterAbstract;

export class ClickThrottle {
  private readonly limiter: RateLimiterAbstract;

  constructor(
    private readonly points: number,
    windowSeconds: number,
    limiter: ThrottleLimiter = (options) => new RateLimiterMemory(options),
  ) {
    this.limiter = limiter({ points, duration: windowSeconds });
  }

  async check(scope: string, userId: string): Promise<ThrottleVerdict> {
    try {
      await this.limiter.consume(`${scope}:${userId}`);
      return 'allow';
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return refusal.consumedPoints === this.points + 1 ? 'warn' : 'drop';
    }
  }
}
