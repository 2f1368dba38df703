import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';
import { FEISHU_LIMITS, type Limit, type LimitKeys, type LimitedMethod, RateLimitWaitTooLong, limitKey } from './rate-limits';

/**
 * Each process's hold on Feishu's documented limits. Feishu counts a call in its windows when the call reaches it:
 * some moment after the bot sent it and before the bot read the answer, which no schedule of permits can know. A
 * permit used on time can still reach Feishu late (a busy event loop, a slow socket, a stalled process) beside the
 * calls after it, and one too many in a second is refused. So each of a call's limits holds a slot for it, from
 * before it is sent until the limit's window after its answer, at most `cap` slots at once (a p-queue of that
 * concurrency whose task is the hold). Then no window of Feishu's, sliding or fixed, holds more than `cap` of the
 * calls it counted, whenever it counted each: of any `cap + 1` of them within one window, the one sent last was sent
 * less than a window after each other one's answer, when all `cap` slots were still held. The pace follows: `cap`
 * calls per window plus the time to an answer, under the limit however the timers bunch. A call Feishu refused
 * under a rate limit was not counted (the emulator's windows count only admitted calls, and Feishu's reset header
 * tells a refused caller when to try again): its slots free at once, so its retry does not wait out a window.
 */

/** Feishu's windows are counted in whole milliseconds: a window is held this much longer. */
const ROUNDING_MS = 5;

export interface CallHold {
  /** How long the call waited for a slot: 0 when every limit had one free as it asked. */
  readonly queuedMs: number;
  /**
   * The call was answered, failed, or never sent: its slots free a window later, or at once when `counted` is
   * false (never sent, or refused under a rate limit). Later releases change nothing.
   */
  release(counted: boolean): void;
}

export class AnswerWindows {
  private readonly queues = new Map<string, { queue: PQueue; limit: Limit }>();

  constructor(
    private readonly maxWaitMs: number,
    private readonly limits: Readonly<Partial<Record<LimitedMethod, readonly Limit[]>>> = FEISHU_LIMITS,
  ) {}

  /**
   * Resolves with a hold once every limit of `method` has a free slot; throws `RateLimitWaitTooLong`, holding
   * nothing, when the slots ahead would take longer than the longest wait; rejects with `signal`'s reason.
   */
  async hold(method: LimitedMethod, keys: LimitKeys, signal?: AbortSignal): Promise<CallHold> {
    const entries = (this.limits[method] ?? []).map((limit) => this.queueFor(method, limit, keys));
    // Each `cap` calls waiting ahead of this one hold their slots at least a window (the held ones may free any moment).
    const expectedWait = Math.max(0, ...entries.map(({ queue, limit }) => Math.floor(queue.size / limit.cap) * limit.perMs));
    if (expectedWait > this.maxWaitMs) throw new RateLimitWaitTooLong(method, expectedWait);
    // Timed only when it queues: a free slot is granted a few ticks later, which on a busy event loop can take a
    // millisecond or more and is no wait for Feishu's limits.
    const askedAt = entries.some(({ queue, limit }) => queue.size > 0 || queue.pending >= limit.cap) ? performance.now() : undefined;
    let answered = (_counted: boolean) => {};
    const settled = new Promise<boolean>((resolve) => {
      answered = resolve;
    });
    const release = (counted: boolean) => answered(counted);
    try {
      for (const { queue, limit } of entries) {
        await new Promise<void>((granted, refused) => {
          queue
            .add(
              async () => {
                granted();
                if (await settled) await sleep(limit.perMs + ROUNDING_MS, undefined, { ref: false });
              },
              { signal },
            )
            .catch(refused);
        });
      }
    } catch (error) {
      release(false);
      throw error;
    }
    return { queuedMs: askedAt === undefined ? 0 : performance.now() - askedAt, release };
  }

  /** Forgets the slots of chats and messages with no call held or waiting. */
  sweep(): void {
    for (const [key, { queue }] of this.queues) {
      if (queue.size === 0 && queue.pending === 0) this.queues.delete(key);
    }
  }

  private queueFor(method: LimitedMethod, limit: Limit, keys: LimitKeys) {
    const key = limitKey(method, limit, keys);
    let entry = this.queues.get(key);
    if (!entry) {
      entry = { queue: new PQueue({ concurrency: limit.cap }), limit };
      this.queues.set(key, entry);
    }
    return entry;
  }
}
