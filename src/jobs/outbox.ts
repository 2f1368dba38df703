import PQueue from 'p-queue';
import { isTransient } from '../feishu/errors';
import type { Logger } from '../log';
import type { Job, StateStore } from '../store/store';

/**
 * Runs the jobs the store holds, so that work recorded before an answer is done even across a crash.
 * Each job is split into named steps whose results are stored as they finish; a resumed job skips the steps
 * already done (the idea behind grammY conversations' `external()`). Jobs of one lane run in order, one at a time.
 */

/** Thrown by a job whose work is partly done and should be tried again later (e.g. some feed cards failed). */
export class RetryLater extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryLater';
  }
}

export interface JobContext {
  job: Job;
  /** Runs `fn` once per job: a step already recorded returns its stored result without running again. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface JobHandler {
  run(ctx: JobContext): Promise<void>;
  /** Called once when the job is abandoned (a permanent failure, or transient ones for too long). */
  giveUp?(job: Job, error: unknown): Promise<void> | void;
}

export interface OutboxOptions {
  store: StateStore;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  now: () => number;
  concurrency?: number;
  /** Delays between attempts after a transient failure; the job is abandoned when they run out. */
  retryDelaysMs?: readonly number[];
  /**
   * Jobs of one chat running at once. Feishu lets a chat take 5 messages a second, so more would only hold slots
   * while waiting for its permits, and one busy group would slow every other.
   */
  perChat?: number;
  /** Told of every job given up (the metrics count them). */
  onAbandoned?: (job: Job) => void;
}

const DEFAULT_PER_CHAT = 8;
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000];

export class Outbox {
  private readonly queue: PQueue;
  /** Lanes with a job running: one job per lane, so also how many jobs are running. */
  private readonly busyLanes = new Set<string>();
  private readonly runningPerChat = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private scanScheduled = false;
  private readonly log: Logger;
  private readonly retryDelaysMs: readonly number[];

  constructor(private readonly options: OutboxOptions) {
    this.queue = new PQueue({ concurrency: options.concurrency ?? 32 });
    this.log = options.logger.child({ module: 'outbox' });
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Looks for runnable jobs soon (after the caller's current tick, so one flush covers a burst of enqueues). */
  kick(): void {
    if (this.stopped || this.scanScheduled) return;
    this.scanScheduled = true;
    setImmediate(() => {
      this.scanScheduled = false;
      this.scan();
    });
  }

  /** Jobs running right now. */
  get running(): number {
    return this.busyLanes.size;
  }

  /** Stops starting jobs and waits for the running ones; unfinished jobs stay stored for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.queue.onIdle();
  }

  /** Resolves when no job is running and none is due now (tests and the demo wait on this). */
  async settled(): Promise<void> {
    for (;;) {
      await this.queue.onIdle();
      await new Promise((resolve) => setImmediate(resolve));
      const now = this.options.now();
      const due = this.options.store.pendingJobs().some((job) => job.runAt <= now);
      if (!due && this.busyLanes.size === 0 && !this.scanScheduled) return;
      if (due) this.kick();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private scan(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const { store } = this.options;
    const now = this.options.now();
    const perChat = this.options.perChat ?? DEFAULT_PER_CHAT;
    let nextRunAt = Number.POSITIVE_INFINITY;
    // Started after the walk: a job's first synchronous steps may enqueue or finish jobs, changing what is walked.
    const starting: Job[] = [];
    for (const [chatId, heads] of store.jobLanes()) {
      let running = chatId === undefined ? 0 : (this.runningPerChat.get(chatId) ?? 0);
      for (const [lane, id] of heads) {
        if (chatId !== undefined && running >= perChat) break;
        if (this.busyLanes.has(lane)) continue;
        const job = store.job(id);
        if (!job) continue;
        if (job.runAt > now) {
          nextRunAt = Math.min(nextRunAt, job.runAt);
          continue;
        }
        running++;
        this.busyLanes.add(lane);
        if (chatId !== undefined) this.runningPerChat.set(chatId, running);
        starting.push(job);
      }
    }
    for (const job of starting) void this.queue.add(() => this.execute(job));
    if (Number.isFinite(nextRunAt)) {
      this.timer = setTimeout(() => this.kick(), Math.max(0, nextRunAt - now));
      this.timer.unref();
    }
  }

  /** Runs the job as stored now; `started` is what the scan reserved for it (its lane, its chat's slot). */
  private async execute(started: Job): Promise<void> {
    const { store } = this.options;
    const job = store.job(started.id);
    try {
      if (!job) return;
      const handler = this.options.handlers[job.kind];
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler.run({ job, step: (name, fn) => this.step(job, name, fn) });
      store.deleteJob(job.id);
      await store.flush();
    } catch (error) {
      if (job) await this.failed(job, error);
    } finally {
      this.busyLanes.delete(started.lane);
      const { chatId } = started;
      if (chatId !== undefined) {
        const left = (this.runningPerChat.get(chatId) ?? 1) - 1;
        if (left > 0) this.runningPerChat.set(chatId, left);
        else this.runningPerChat.delete(chatId);
      }
      this.kick();
    }
  }

  private async step<T>(job: Job, name: string, fn: () => Promise<T>): Promise<T> {
    if (name in job.steps) return job.steps[name] as T;
    const result = await fn();
    job.steps[name] = result ?? null;
    this.options.store.putJob(job);
    await this.options.store.flush();
    return result;
  }

  private async failed(job: Job, error: unknown): Promise<void> {
    const { store } = this.options;
    const message = error instanceof Error ? error.message : String(error);
    const delay = this.retryDelaysMs[job.attempts];
    const transient = error instanceof RetryLater || isTransient(error);
    if (transient && delay !== undefined && !this.stopped) {
      this.log.warn({ jobId: job.id, attempt: job.attempts + 1, retryInMs: delay, err: message }, 'job failed, will retry');
      store.putJob({ ...job, attempts: job.attempts + 1, runAt: this.options.now() + delay, lastError: message });
    } else if (transient && this.stopped) {
      return;
    } else {
      this.log.error({ jobId: job.id, attempts: job.attempts + 1, err: message }, 'job abandoned');
      this.options.onAbandoned?.(job);
      try {
        await this.options.handlers[job.kind]?.giveUp?.(job, error);
      } catch (giveUpError) {
        this.log.error({ jobId: job.id, err: (giveUpError as Error).message }, 'giving up on a job failed too');
      }
      store.deleteJob(job.id);
    }
    await store.flush().catch((flushError: Error) => this.log.error({ err: flushError.message }, 'store flush failed'));
  }
}
