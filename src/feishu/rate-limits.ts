import PQueue from 'p-queue';
import { CodedError, ErrorCode } from '../errors';

/**
 * Feishu's documented limits, enforced before Feishu enforces them. Each limit is a p-queue that hands out
 * permits: per-second limits as evenly spaced permits (so no burst at a window edge can trip Feishu's sliding
 * window), per-minute limits as a fixed window.
 */

export type LimitScope = 'app' | 'chat' | 'message';

export interface Limit {
  scope: LimitScope;
  cap: number;
  perMs: number;
}

export type LimitedMethod =
  | 'ephemeral.send'
  | 'ephemeral.delete'
  | 'message.send'
  | 'message.bulkSend'
  | 'message.patch'
  | 'message.recall'
  | 'message.get'
  | 'chat.members'
  | 'feedCard'
  | 'contact.user'
  | 'task.create'
  | 'task.get'
  | 'task.patch'
  | 'task.delete';

/**
 * Feishu Task v2's pages document 10 calls a second per app (the delete page; the create, get and patch pages were not
 * in the docs we could read, so the same figure is kept for each, the strictest Feishu documents for this API).
 */
const TASK_LIMIT: readonly Limit[] = [{ scope: 'app', cap: 10, perMs: 1000 }];

export const FEISHU_LIMITS: Readonly<Record<LimitedMethod, readonly Limit[]>> = {
  'ephemeral.send': [
    { scope: 'app', cap: 50, perMs: 1000 },
    { scope: 'app', cap: 1000, perMs: 60_000 },
    { scope: 'chat', cap: 40, perMs: 1000 },
  ],
  'ephemeral.delete': [
    { scope: 'app', cap: 50, perMs: 1000 },
    { scope: 'app', cap: 1000, perMs: 60_000 },
  ],
  'message.send': [{ scope: 'chat', cap: 5, perMs: 1000 }],
  /**
   * A send that is one of very many at once (the daily digest of every group at the same minute): also paced under the
   * app's limits for sending (1,000 a minute and 50 a second). Other sends count only against their chat's, so that
   * one busy chat's queued messages never hold the app's schedule, and every other chat's, behind them.
   */
  'message.bulkSend': [
    { scope: 'app', cap: 50, perMs: 1000 },
    { scope: 'app', cap: 1000, perMs: 60_000 },
    { scope: 'chat', cap: 5, perMs: 1000 },
  ],
  'message.patch': [{ scope: 'message', cap: 5, perMs: 1000 }],
  'message.recall': [
    { scope: 'app', cap: 50, perMs: 1000 },
    { scope: 'app', cap: 1000, perMs: 60_000 },
  ],
  // Reading a message (a `/todo`'s source) and a chat's members (a direct-message form's picker): 50/s, 1000/min.
  'message.get': [
    { scope: 'app', cap: 50, perMs: 1000 },
    { scope: 'app', cap: 1000, perMs: 60_000 },
  ],
  'chat.members': [
    { scope: 'app', cap: 50, perMs: 1000 },
    { scope: 'app', cap: 1000, perMs: 60_000 },
  ],
  feedCard: [{ scope: 'app', cap: 10, perMs: 1000 }],
  'contact.user': [
    { scope: 'app', cap: 50, perMs: 1000 },
    { scope: 'app', cap: 1000, perMs: 60_000 },
  ],
  'task.create': TASK_LIMIT,
  'task.get': TASK_LIMIT,
  'task.patch': TASK_LIMIT,
  'task.delete': TASK_LIMIT,
};

/**
 * Slack on every window: a permit is taken before the request travels, and a busy event loop can delay the
 * request by tens of milliseconds, so Feishu's clock is left that much room (6% of a second: 60 ms).
 */
export const SPACING_SLACK = 1.06;

export interface LimitKeys {
  chatId?: string;
  messageId?: string;
}

export class RateLimitWaitTooLong extends CodedError {
  readonly code = ErrorCode.RateLimitWaitTooLong;

  constructor(
    readonly method: LimitedMethod,
    readonly waitMs: number,
  ) {
    super(`${method} would wait about ${Math.round(waitMs / 1000)} s for Feishu's rate limit`);
  }
}

/**
 * What the Feishu client takes its permits from: this process's queues (`RateLimiter`), or, with several instances,
 * a limiter they share (`FleetRateLimiter`, on the store's `SharedLimits`), so that the limits hold for the whole fleet.
 */
export interface Limiter {
  /**
   * Resolves when every limit of `method` allows one more call now; throws `RateLimitWaitTooLong`, taking nothing,
   * when that would be more than the limiter's longest wait; rejects at once when `signal` aborts.
   */
  acquire(method: LimitedMethod, keys: LimitKeys, signal?: AbortSignal): Promise<void>;
  /** Forgets the state of chats and messages idle for long. */
  sweep(): void | Promise<void>;
}

/** The limits of one process: p-queues handing out permits, spaced as the comment on `burstFor` says. */
export class RateLimiter implements Limiter {
  private readonly queues = new Map<string, { queue: PQueue; spacingMs: number }>();

  constructor(
    private readonly maxWaitMs: number,
    private readonly limits: Readonly<Partial<Record<LimitedMethod, readonly Limit[]>>> = FEISHU_LIMITS,
  ) {}

  async acquire(method: LimitedMethod, keys: LimitKeys, signal?: AbortSignal): Promise<void> {
    const queues = (this.limits[method] ?? []).map((limit) => this.queueFor(method, limit, keys));
    const expectedWait = Math.max(0, ...queues.map(({ queue, spacingMs }) => queue.size * spacingMs));
    if (expectedWait > this.maxWaitMs) throw new RateLimitWaitTooLong(method, expectedWait);
    for (const { queue } of queues) await queue.add(() => undefined, { signal });
  }

  /** Drops idle per-chat and per-message queues so a long-running bot does not keep one per chat forever. */
  sweep(): void {
    for (const [key, { queue }] of this.queues) {
      if (queue.size === 0 && queue.pending === 0) this.queues.delete(key);
    }
  }

  private queueFor(method: LimitedMethod, limit: Limit, keys: LimitKeys) {
    const key = limitKey(method, limit, keys);
    let entry = this.queues.get(key);
    if (!entry) {
      // `strict` (a sliding window of start times) rather than p-queue's default fixed windows: in fixed-window
      // mode a task added while the queue is idle can start at the very end of a window and the next one at the
      // start of the following window, 0-1 ms later. The reliability fan-out test measured 41 ephemeral sends
      // within 900 ms that way (Feishu allows 40/s per chat, and answered 230020).
      // A per-minute limit may be spent in a burst (the per-second limits pace it); per-second ones are spread.
      const burst = limit.perMs > 1000 ? limit.cap : burstFor(limit);
      const windowMs = Math.ceil((limit.perMs / limit.cap) * burst * SPACING_SLACK);
      entry = { queue: new PQueue({ intervalCap: burst, interval: windowMs, strict: true }), spacingMs: windowMs / burst };
      this.queues.set(key, entry);
    }
    return entry;
  }
}

/**
 * Per-second permits come in small bursts rather than one by one: each wait for a timer is late by a millisecond or
 * two, and paying that once per burst instead of once per permit keeps the achieved rate near the limit. The burst
 * is the largest (up to 4) for which whole windows leave at least one call of the limit unused in any rolling
 * second: at exactly the limit, a request delayed past the slack made a 41st in the benchmark's fan-out.
 */
export function burstFor(limit: Limit): number {
  for (let burst = 4; burst > 1; burst--) {
    if (burst * Math.ceil(limit.cap / (burst * SPACING_SLACK)) <= limit.cap - 1) return burst;
  }
  return 1;
}

/** What one limit of one method is counted under: method, scope and its id, window (the same in every limiter). */
export function limitKey(method: LimitedMethod, limit: Limit, keys: LimitKeys): string {
  const id = limit.scope === 'chat' ? keys.chatId : limit.scope === 'message' ? keys.messageId : 'app';
  return `${method}|${limit.scope}:${id ?? '-'}|${limit.perMs}`;
}
