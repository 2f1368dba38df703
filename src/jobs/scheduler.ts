/**
 * Decides when, never what: one timer, armed for the earliest due time among its tasks (no timer per form or
 * reminder), and a slower housekeeping beat. Each task says when it is next due and does its work when called.
 */

export interface ScheduledTask {
  name: string;
  nextDue(): number | undefined;
  run(now: number): Promise<void>;
}

export interface SchedulerOptions {
  tasks: ScheduledTask[];
  now: () => number;
  /** The longest sleep between looks, so that a clock jump or a missed poke is noticed. */
  maxSleepMs?: number;
  onError: (task: string, error: unknown) => void;
}

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;

  constructor(private readonly options: SchedulerOptions) {}

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Something new may be due sooner than the armed timer: look again. */
  poke(): void {
    if (!this.stopped && !this.running) this.arm();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    const now = this.options.now();
    for (const task of this.options.tasks) {
      const due = task.nextDue();
      if (due === undefined || due > now) continue;
      try {
        await task.run(now);
      } catch (error) {
        this.options.onError(task.name, error);
      }
    }
    this.running = false;
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const now = this.options.now();
    const dues = this.options.tasks.map((task) => task.nextDue()).filter((due): due is number => due !== undefined);
    const next = Math.min(now + (this.options.maxSleepMs ?? 60_000), ...dues);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, next - now));
    this.timer.unref();
  }
}
