import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * One person flooding the bot with commands must not crowd out everyone else. Each person gets a budget of
 * commands per window in each chat; the first command over it is answered with a polite notice, the rest are
 * dropped quietly until the window passes.
 */
export type ThrottleVerdict = 'allow' | 'warn' | 'drop';

export class CommandThrottle {
  private readonly limiter: RateLimiterMemory;

  constructor(private readonly points: number, windowSeconds: number) {
    this.limiter = new RateLimiterMemory({ points, duration: windowSeconds });
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
