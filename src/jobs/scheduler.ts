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
  /** A task failed: told of its 1st, 2nd, 4th, 8th… failure in a row (`failures`), not of every one. */
  onError: (task: string, error: unknown, failures: number) => void;
  /** A task that had failed `failures` times in a row worked again. */
  onRecovered?: (task: string, failures: number) => void;
}

/**
 * When a task that runs every `intervalMs`, last at `last`, is next due: at once when the clock has stepped back past
 * `last` (an NTP step, a VM restored from a snapshot), which would otherwise have it wait out the step as well.
 */
export function nextPeriodicDue(last: number, intervalMs: number, now: number): number {
  return last > now ? now : last + intervalMs;
}

/** After a look that found work still due, the next look waits this long, not zero. */
const BUSY_RETRY_MS = 1_000;
/**
 * A task that fails is tried again after 1 s, 2 s, 4 s… up to this: a store that stays down (its reads are most tasks'
 * `nextDue`) would otherwise cost a failed look and an error line every second.
 */
export const FAILED_TASK_RETRY_MAX_MS = 60_000;

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  /** When the armed timer fires, on `now`'s clock; until the first look has armed it, every due time is sooner. */
  private plannedAt = Number.NEGATIVE_INFINITY;
  /** The earliest time something may be due that was heard of during the look under way (see `lookBy`). */
  private dueDuringLook: number | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Tasks failing in a row: how many times, and when each is tried again. */
  private readonly failing = new Map<string, { failures: number; retryAt: number }>();

  constructor(private readonly options: SchedulerOptions) {}

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.options.store.onCommitted(({ dueAt }) => dueAt !== undefined && this.lookBy(dueAt));
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

  /** Something may be due now: look again (after the look under way, if one is). */
  poke(): void {
    this.lookBy(Number.NEGATIVE_INFINITY);
  }

  /**
   * Something may be due at `at`: look again if that is before the planned look, or if the clock has passed that look.
   * During a look, which may have read the store too early to see it, the earliest such time is kept and weighed once
   * the look has made its plan: under a steady stream of commits, looking again after every look that heard of one
   * would never stop.
   */
  private lookBy(at: number): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.dueDuringLook = Math.min(this.dueDuringLook ?? at, at);
      return;
    }
    if (at >= this.plannedAt && this.options.now() < this.plannedAt) return;
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      const heard = this.dueDuringLook;
      this.dueDuringLook = undefined;
      if (heard !== undefined) this.lookBy(heard);
    });
  }

  private async tick(): Promise<void> {
    const now = this.options.now();
    let next = now + DUE_LOOK_INTERVAL_MS;
    for (const task of this.options.tasks) {
      if (this.stopped) return;
      const failing = this.failing.get(task.name);
      // A retry further off than the longest wait was planned before the clock stepped back: tried now.
      const untilRetry = failing ? failing.retryAt - this.options.now() : 0;
      if (failing && untilRetry > 0 && untilRetry <= FAILED_TASK_RETRY_MAX_MS) {
        next = Math.min(next, failing.retryAt);
        continue;
      }
      try {
        const due = await task.nextDue();
        // Weighed against the clock when the task answered, not when the look began: a task may be due "now, as of
        // when asked", later than the look's start by the reads of the tasks before it. Against the start it was never
        // due, and the look after it, armed for at once, found the same, round after round.
        const at = this.options.now();
        if (due !== undefined && due <= at) {
          await task.run(at);
          const after = await task.nextDue();
          const ran = this.options.now();
          if (after !== undefined) next = Math.min(next, after <= ran ? ran + BUSY_RETRY_MS : after);
        } else if (due !== undefined) {
          next = Math.min(next, due);
        }
        if (failing) {
          this.failing.delete(task.name);
          this.options.onRecovered?.(task.name, failing.failures);
        }
      } catch (error) {
        const failures = (failing?.failures ?? 0) + 1;
        const retryAt = this.options.now() + Math.min(FAILED_TASK_RETRY_MAX_MS, BUSY_RETRY_MS * 2 ** (failures - 1));
        this.failing.set(task.name, { failures, retryAt });
        if ((failures & (failures - 1)) === 0) this.options.onError(task.name, error, failures);
        next = Math.min(next, retryAt);
      }
    }
    if (this.stopped) return;
    clearTimeout(this.timer);
    const armed = this.options.now();
    this.plannedAt = Math.max(armed, next);
    this.timer = setTimeout(() => this.poke(), this.plannedAt - armed);
    this.timer.unref();
  }
}
