import { CodedError, ErrorCode } from '../errors';

/**
 * Feishu's documented limits, enforced before Feishu enforces them: in each process by its answer windows
 * (answer-windows.ts, which bound each of Feishu's windows however late a call reaches it), and for a fleet also by
 * the limiter its instances share (fleet-rate-limiter.ts).
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
 * Slack on every window of the fleet's shared limiter: a permit is taken before the request travels, and a busy
 * event loop can delay the request by tens of milliseconds, so Feishu's clock is left that much room (6% of a
 * second: 60 ms).
 */
export const SPACING_SLACK = 1.06;

export interface LimitKeys {
  chatId?: string;
  messageId?: string;
}

export interface AcquireOptions {
  /**
   * The call's previous attempt was refused under a rate limit. Feishu did not count it, so it keeps the place it
   * took in the per-minute limits and takes only per-second permits again: a retry that asked for the minute's
   * 1,001st permit would wait out the minute for a call Feishu never counted.
   */
  afterRefusal?: boolean | undefined;
}

/** A limit counted over more than a second (Feishu's per-minute ones). */
export const isWindowed = (limit: Limit): boolean => limit.perMs > 1000;

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
 * What the Feishu client takes a permit from before its slot in the process's answer windows, with several
 * instances: a limiter they share (`FleetRateLimiter`, on the store's `SharedLimits`), so that the limits hold for
 * the whole fleet.
 */
export interface Limiter {
  /**
   * Resolves when every limit of `method` allows one more call now, with the milliseconds the call was held back for
   * it (0 when its permit was due at once); throws `RateLimitWaitTooLong`, taking nothing, when that would be more
   * than the limiter's longest wait; rejects at once when `signal` aborts.
   */
  acquire(method: LimitedMethod, keys: LimitKeys, signal?: AbortSignal, options?: AcquireOptions): Promise<number>;
  /** Forgets the state of chats and messages idle for long. */
  sweep(): void | Promise<void>;
}

/** What one limit of one method is counted under: method, scope and its id, window (the same in every limiter). */
export function limitKey(method: LimitedMethod, limit: Limit, keys: LimitKeys): string {
  const id = limit.scope === 'chat' ? keys.chatId : limit.scope === 'message' ? keys.messageId : 'app';
  return `${method}|${limit.scope}:${id ?? '-'}|${limit.perMs}`;
}
