import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * One person flooding the bot with commands must not crowd out everyone else. Each person gets a budget of
 * commands per window in each chat; the first command over it is answered with a polite notice, the rest are
 * dropped quietly until the window passes.
 */
export type ThrottleVerdict = 'allow' | 'warn' | 'drop';

/** Where the budgets are counted: in this process by default, or for the whole fleet (`sharedThrottleLimiter`). */
export type ThrottleLimiter = (options: { points: number; duration: number }) => RateLimiterAbstract;

export class CommandThrottle {
  private readonly limiter: RateLimiterAbstract;

  constructor(private readonly points: number, windowSeconds: number, limiter: ThrottleLimiter = (options) => new RateLimiterMemory(options)) {
    this.limiter = limiter({ points, duration: windowSeconds });
  }

  async check(chatId: string, userId: string): Promise<ThrottleVerdict> {
    try {
      await this.limiter.consume(`${chatId}:${userId}`);
      return 'allow';
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return refusal.consumedPoints === this.points + 1 ? 'warn' : 'drop';
    }
  }
}
