import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * One person flooding the bot must not crowd out everyone else. Each person gets a budget per window in each scope
 * (commands: a chat; clicks: a card); the first request over it is answered with a polite notice, the rest are
 * dropped quietly until the window passes. The verdict asks Feishu nothing (it is counted in this process, or for a
 * fleet in the shared database), so it is made before anything is stored.
 */
export type ThrottleVerdict = 'allow' | 'warn' | 'drop';

/** Where the budgets are counted: in this process by default, or for the whole fleet (the store's `SharedLimits`). */
export type ThrottleLimiter = (options: { points: number; duration: number }) => RateLimiterAbstract;

export class CommandThrottle {
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

  /** Gives back the point an allowed request took, when it turned out to repeat one already counted. */
  async refund(scope: string, userId: string): Promise<void> {
    await this.limiter.reward(`${scope}:${userId}`, 1);
  }
}
