import { DUE_LOOK_INTERVAL_MS, type Store } from '../store/store';

/**
 * Decides when, never what: one timer, armed for the earliest due time among its tasks (no timer per form or
 * reminder). A task says when it is next due and does its work when called; what it claims, it claims through the
 * store, so with several instances each due occurrence is claimed once. The timer is re-armed when a commit (here or
 * on another instance) writes a due time sooner than the planned look, and at least every minute (`DUE_LOOK_INTERVAL_MS`,
 * for a clock jump, or a due time another instance did not tell of, being further off). A commit whose
 * due times all fall after the planned look changes nothing: the look finds them. Without that, every instance looked
 * again after every form or to-do written anywhere in the fleet, two store reads each time.
 */

export interface ScheduledTask {
  name: string;
  nextDue(): Promise<number | undefined>;
  run(now: number): Promise<void>;
}

export interface SchedulerOptions {
  tasks: ScheduledTask[];
  /** Heard from after each commit, which may have written a due time. */
  store: Pick<Store, 'onCommitted'>;
  now: () => number;
  onError: (task: string, error: unknown) => void;
}

/** After a look that found work still due (a task failed, say), the next look waits this long, not zero. */
const BUSY_RETRY_MS = 1_000;

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** When the armed timer fires, on `now`'s clock; until the first look has armed it, every due time is sooner. */
  private plannedAt = Number.NEGATIVE_INFINITY;
  /**
   * The earliest due time written during the look under way, which it may have read the store too early to see: it
   * is looked for again only if it falls before the look this one plans (under a steady stream of commits, looking
   * again after each look that heard any would never stop).
   */
  private dueDuringLook: number | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: SchedulerOptions) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.options.store.onCommitted(({ dueAt }) => {
      if (dueAt === undefined) return;
      if (this.ticking) this.dueDuringLook = Math.min(this.dueDuringLook ?? dueAt, dueAt);
      else if (dueAt < this.plannedAt || this.options.now() >= this.plannedAt) this.poke();
    });
    this.poke();
  }

  /** Stops arming the timer and waits for a look under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.ticking;
  }

  /**
   * Resolves when no look is under way, nor one asked for during the last (tests and the demo wait on this after
   * moving the clock: a look enqueues what came due, and a caller that settled before it commits would miss it).
   */
  async settled(): Promise<void> {
    while (this.ticking) await this.ticking;
  }

  /** Something may be due sooner than the armed timer: look again. */
  poke(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      const missed = this.dueDuringLook !== undefined && this.dueDuringLook < this.plannedAt;
      this.dueDuringLook = undefined;
      if (this.again || missed) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async tick(): Promise<void> {
    const now = this.options.now();
    let next = now + DUE_LOOK_INTERVAL_MS;
    for (const task of this.options.tasks) {
      if (this.stopped) return;
      try {
        const due = await task.nextDue();
        if (due !== undefined && due <= now) {
          await task.run(now);
          const after = await task.nextDue();
          if (after !== undefined) next = Math.min(next, after <= now ? now + BUSY_RETRY_MS : after);
        } else if (due !== undefined) {
          next = Math.min(next, due);
        }
      } catch (error) {
        this.options.onError(task.name, error);
        next = Math.min(next, now + BUSY_RETRY_MS);
      }
    }
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.plannedAt = Math.max(now, next);
    this.timer = setTimeout(() => this.poke(), this.plannedAt - now);
    this.timer.unref();
  }
}
