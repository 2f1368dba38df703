import PQueue from 'p-queue';
import { CodedError, ErrorCode, errorCode } from '../errors';
import type { Logger } from '../log';
import { type Job, type JobQueue, LeaseLost, type Store } from '../store/store';
import { LeaseKeeper, type RenewalObservation } from './leases';
import type { BoundJob, JobRegistry, JobRuntime } from './registry';

/**
 * Runs the jobs the store holds, so that work recorded before an answer is done even across a crash, by this
 * instance or another. A job is leased before it runs (one per lane, a few per chat, fleet-wide: the store decides)
 * and its lease is renewed while it runs; each job is split into named steps whose results are stored as they
 * finish, so a job resumed after a crash skips the steps already done (the idea behind grammY conversations'
 * `external()`). The outbox looks for work when the store says something was committed, when a job's retry time
 * comes, and every `pollMs` at the latest (for what another instance may have left behind).
 */

/** Thrown by a job whose work is partly done and should be tried again later (e.g. some feed cards failed). */
export class RetryLater extends CodedError {
  readonly code = ErrorCode.JobRetryLater;
}

/** A commit of the job's lost a race with another change: the job runs again at once, on fresh state. */
class CommitConflict extends CodedError {
  readonly code = ErrorCode.JobCommitConflict;

  constructor(jobId: string) {
    super(`job ${jobId} read state that changed before it could write`);
  }
}

export interface OutboxOptions {
  /** The job queue, and the commits a job makes and hears of. */
  store: JobQueue & Pick<Store, 'commit' | 'onCommitted' | 'announceJobsWhen'>;
  /** The kinds of job this instance runs: each job's payload is checked against its kind's schema when claimed. */
  registry: JobRegistry;
  /**
   * Whether a failure may pass if the job is tried again later (a network error, a platform's busy answer): the
   * caller knows its platform's errors, the outbox does not. A `RetryLater` always is; without this, nothing else.
   */
  isTransient?: (error: unknown) => boolean;
  logger: Logger;
  now: () => number;
  /** This instance's name in the leases it takes. */
  owner: string;
  concurrency?: number;
  /** Delays between attempts after a transient failure; the job is abandoned when they run out. */
  retryDelaysMs?: readonly number[] | undefined;
  /**
   * Jobs of one chat running at once, fleet-wide. Feishu lets a chat take 5 messages a second, so more would only
   * hold slots while waiting for its permits, and one busy group would slow every other.
   */
  perChat?: number;
  /** How long a lease lasts unless renewed: how soon another instance resumes the job of one that died. */
  leaseMs?: number;
  /** The longest the outbox goes without looking for work. */
  pollMs?: number;
  /** How long a job this instance cannot run (see `park`) waits before it is looked at again. */
  parkMs?: number;
  /** Told of every job given up (the metrics count them). */
  onAbandoned?: (job: Job) => void;
  /** Told of every lease renewal (the metrics show its latency and the event loop's lag). */
  onRenewal?: (observation: RenewalObservation) => void;
  /** Told of every lease lost while its job ran (the metrics count them). */
  onLeaseLost?: (job: Job) => void;
}

const DEFAULT_CONCURRENCY = 32;
const DEFAULT_PER_CHAT = 8;
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000];
/**
 * A lease lasts this long unless renewed (every quarter of it while the job runs, see `LeaseKeeper`). With the poll
 * below, another instance resumes the job of one that died within lease + poll: 25 s.
 */
export const DEFAULT_LEASE_MS = 20_000;
/**
 * The longest the outbox goes without looking for work. Commits wake it at once (other instances' too, through the
 * store, when this instance might take their jobs); the poll is for what no commit announces: a dead instance's lease
 * running out, or the jobs of an instance that died between its commit and its look for them.
 */
export const DEFAULT_POLL_MS = 5_000;
/**
 * A job this instance cannot run is looked at again this much later: soon enough for a newer instance of a fleet
 * being upgraded to take it, seldom enough that a damaged one costs a log line now and then.
 */
export const DEFAULT_PARK_MS = 10 * 60_000;
/**
 * A job no version of the fleet has run this long after it was stored is given up (logged as abandoned): no upgrade
 * takes a week, so its payload is damaged, and its lane (one to-do's, or one person's commands in a chat) must not
 * wait behind it for ever.
 */
export const PARK_LIMIT_MS = 7 * 24 * 60 * 60_000;
/** How long the outbox lets other instances' commits gather before it looks for work they may have left it. */
const REMOTE_WAKE_MS = 25;
/** A job that keeps losing races to other writers is given up on after this many fresh runs in a row. */
const CONFLICT_RERUNS = 5;

export class Outbox {
  private readonly queue: PQueue;
  private readonly runningJobs = new Map<string, Job>();
  private readonly log: Logger;
  private readonly retryDelaysMs: readonly number[];
  private readonly leaseMs: number;
  private readonly perChat: number;
  private readonly leases: LeaseKeeper;
  private stopped = true;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private kickScheduled = false;
  private nextRunTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private announceAlways: (() => void) | undefined;
  private readonly concurrency: number;

  constructor(private readonly options: OutboxOptions) {
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.queue = new PQueue({ concurrency: this.concurrency });
    this.log = options.logger.child({ module: 'outbox' });
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.perChat = options.perChat ?? DEFAULT_PER_CHAT;
    this.leases = new LeaseKeeper({
      store: options.store,
      leaseMs: this.leaseMs,
      logger: this.log,
      onRenewal: options.onRenewal,
      onLost: options.onLeaseLost,
    });
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe = this.options.store.onCommitted((committed) => {
      if (!committed.jobs) return;
      if (committed.elsewhere) this.kickSoon();
      else if (this.couldTakeAny(committed.jobChats)) this.kick();
    });
    this.announceAlways = this.options.store.announceJobsWhen?.((chats) => this.othersMayTake(chats));
    const pollMs = this.options.pollMs ?? DEFAULT_POLL_MS;
    this.pollTimer = setInterval(() => this.kick(), pollMs);
    this.pollTimer.unref();
    this.leases.start();
    this.kick();
  }

  /** Looks for runnable jobs soon (after the caller's current tick, so one look covers a burst of commits). */
  kick(): void {
    if (this.stopped || this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      void this.scan();
    });
  }

  /**
   * Looks for runnable jobs a little later, once for any number of calls meanwhile. Another instance's commit is
   * heard for every push the fleet takes, and its jobs are usually that instance's own to run: looking once per
   * `REMOTE_WAKE_MS` rather than once per notice keeps a fleet from spending its database on empty claims.
   */
  private kickSoon(): void {
    if (this.stopped || this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.kick();
    }, REMOTE_WAKE_MS);
    this.wakeTimer.unref();
  }

  /**
   * Whether a job of these chats could be taken now. A chat with `perChat` of its jobs running here has no room
   * anywhere in the fleet: its new jobs wait for one of those to end, which looks for work again. So a flood of pushes
   * into a chat at its cap costs no claim (a PostgreSQL round trip) per commit, while a job of another chat is
   * looked for at once.
   */
  private couldTakeAny(chats: ReadonlyArray<string | undefined> | undefined): boolean {
    return chats === undefined || chats.some((chat) => this.hasRoom(chat));
  }

  /**
   * Whether a commit of jobs of these chats should wake the other instances of a fleet. Not when none of the jobs
   * could be taken now (each chat has `perChat` jobs running here: no room anywhere, and the end of one of those wakes
   * every instance), nor when this instance has a free slot for each one that could: it looks for them at once after
   * the commit (see `start`). A job it leaves all the same (its slots filled meanwhile) is taken when a job ends here
   * or elsewhere (a job's end wakes every instance) or at the next poll, as is a job whose committing instance died
   * before it looked. A stopping outbox takes nothing: every commit is told.
   */
  private othersMayTake(chats: ReadonlyArray<string | undefined>): boolean {
    if (this.stopped) return true;
    const takeable = chats.filter((chat) => this.hasRoom(chat)).length;
    return takeable > 0 && this.runningJobs.size + takeable > this.concurrency;
  }

  /** Whether a job of this chat (undefined: of none) could run here now, as far as this instance knows. */
  private hasRoom(chat: string | undefined): boolean {
    if (chat === undefined) return true;
    let running = 0;
    for (const job of this.runningJobs.values()) if (job.chatId === chat) running++;
    return running < this.perChat;
  }

  /**
   * Stops taking jobs, asks the running ones to stop waiting, and waits for them: a step under way finishes, a job
   * cut short keeps its finished steps and runs again at the next start (here or on another instance).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.announceAlways?.();
    for (const timer of [this.nextRunTimer, this.pollTimer, this.wakeTimer]) clearTimeout(timer);
    await this.scanning;
    await this.queue.onIdle();
    await this.leases.stop();
    await this.options.store.releaseLeases(this.options.owner);
  }

  /**
   * Resolves when no job is running and none is due now (tests and the demo wait on this). Each look for work starts
   * after the call: a scan already under way may have read the store before the caller's last commit (a claim on
   * PostgreSQL takes a round trip), so joining it could miss the jobs that commit enqueued and settle too early.
   */
  async settled(): Promise<void> {
    for (;;) {
      await this.queue.onIdle();
      await this.scanning;
      await this.scan();
      if (this.runningJobs.size === 0 && this.queue.size === 0 && this.queue.pending === 0) return;
    }
  }

  /** Jobs this instance is running now. */
  get running(): number {
    return this.runningJobs.size;
  }

  private scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = this.claim()
      .catch((error: unknown) => this.log.error({ err: error }, 'could not claim jobs'))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescan) {
          this.rescan = false;
          this.kick();
        }
      });
    return this.scanning;
  }

  private async claim(): Promise<void> {
    const free = this.concurrency - this.runningJobs.size;
    if (this.stopped || free <= 0) return;
    const now = this.options.now();
    const claimedAt = this.leases.now();
    const { jobs, nextRunAt } = await this.options.store.claimJobs({
      owner: this.options.owner,
      now,
      leaseMs: this.leaseMs,
      max: free,
      perChat: this.perChat,
    });
    for (const job of jobs) {
      this.runningJobs.set(job.id, job);
      this.leases.hold(job, claimedAt);
      void this.queue.add(() => this.execute(job));
    }
    clearTimeout(this.nextRunTimer);
    if (nextRunAt !== undefined && !this.stopped) {
      this.nextRunTimer = setTimeout(() => this.kick(), Math.max(0, nextRunAt - now));
      this.nextRunTimer.unref();
    }
  }

  private async execute(job: Job): Promise<void> {
    const handler = this.options.registry.bind(job);
    try {
      if (!handler.ok) return await this.park(job, handler.problem);
      await rerunOnConflict(() => handler.run(this.context(job)));
      await this.finish(job);
    } catch (error) {
      await this.failed(job, handler, error).catch((failure: unknown) => this.logFailure(job, failure));
    } finally {
      this.leases.drop(job);
      this.runningJobs.delete(job.id);
      this.kick();
    }
  }

  private context(job: Job): JobRuntime {
    const { store, now } = this.options;
    return {
      job,
      step: async (name, fn, options) => {
        if (name in job.steps) return job.steps[name] as never;
        await this.leases.assure(job);
        const result = await fn();
        try {
          await store.recordStep(job, name, result);
        } catch (error) {
          // Not recorded, the step runs again (here after a retry, or on the instance that took the job over): what it
          // did that cannot be repeated harmlessly is undone. A store that failed to answer is such a case too.
          const undo = options?.undo;
          if (undo) await this.undo(job, name, () => undo(result));
          throw error;
        }
        job.steps = { ...job.steps, [name]: result ?? null };
        return result;
      },
      commit: async (commit) => {
        const result = await store.commit({ ...commit, now: now(), by: job });
        if (result.ok) return;
        if (result.reason === 'lease-lost') throw new LeaseLost(job.id);
        throw new CommitConflict(job.id);
      },
    };
  }

  /**
   * A job this instance cannot run (a kind it does not know, or a payload its kind's schema refuses) was written by a
   * newer version of the bot (an instance of the fleet upgraded first) or damaged: it is parked, not run and not given
   * up. It stays stored with the problem as its last error and is looked at again after `parkMs`, by whichever
   * instance claims it then, one that knows it among them. Its lane waits behind it, as behind any job not yet done.
   * A park is not an attempt: the job keeps every try of its own for the version that can run it. Past
   * `PARK_LIMIT_MS` it is given up.
   */
  private async park(job: Job, problem: string): Promise<void> {
    const now = this.options.now();
    if (now - job.createdAt > PARK_LIMIT_MS) {
      this.log.error({ jobId: job.id, kind: job.kind, problem, storedAt: new Date(job.createdAt).toISOString() }, 'job abandoned: no version ran it in a week');
      this.options.onAbandoned?.(job);
      return this.finish(job);
    }
    const parkMs = this.options.parkMs ?? DEFAULT_PARK_MS;
    this.log.error({ jobId: job.id, kind: job.kind, problem, retryInMs: parkMs }, 'job parked: this version cannot run it');
    await this.retry(job, now + parkMs, `parked: ${problem}`, false);
  }

  private async failed(job: Job, handler: BoundJob, error: unknown): Promise<void> {
    const code = errorCode(error);
    if (code === ErrorCode.LeaseLost) {
      this.leases.refused(job);
      return;
    }
    // A job cut short by the stop (its waits aborted) keeps its finished steps and its lease until the stop releases
    // every lease: it runs again at the next start, here or on another instance, and is judged then.
    if (this.stopped) return;
    const transient = code === ErrorCode.JobRetryLater || (this.options.isTransient?.(error) ?? false);
    const delay = this.retryDelaysMs[job.attempts];
    if (transient && delay !== undefined) {
      this.log.warn({ jobId: job.id, attempt: job.attempts + 1, retryInMs: delay, err: error }, 'job failed, will retry');
      await this.retry(job, this.options.now() + delay, error instanceof Error ? error.message : String(error));
      return;
    }
    this.log.error({ jobId: job.id, attempts: job.attempts + 1, err: error }, 'job abandoned');
    this.options.onAbandoned?.(job);
    try {
      // Read again and decided again when its commit lost to another writer, as a run is: it is called once.
      if (handler.ok) await rerunOnConflict(() => handler.giveUp(this.context(job), error));
    } catch (giveUpError) {
      this.logFailure(job, giveUpError);
    }
    await this.finish(job);
  }

  /** Every way a job gives its lease back goes through these two, so a renewal that misses it finds no loss. */
  private finish(job: Job): Promise<void> {
    this.leases.giveBack(job);
    return this.options.store.finishJob(job);
  }

  private retry(job: Job, runAt: number, error: string, attempted = true): Promise<void> {
    this.leases.giveBack(job);
    return this.options.store.retryJob(job, runAt, error, attempted);
  }

  /**
   * Takes back a step's effect whose result could not be recorded, the lease lost: the instance that took the job
   * over does the step itself, so what this one did is a duplicate (a second private card, say).
   */
  private async undo(job: Job, step: string, undo: () => Promise<unknown>): Promise<void> {
    try {
      await undo();
      this.log.warn({ jobId: job.id, step }, 'step done but not recorded; its effect is undone');
    } catch (error) {
      this.log.error({ jobId: job.id, step, err: error }, 'step done but not recorded; its effect could not be undone');
    }
  }

  private logFailure(job: Job, error: unknown): void {
    if (errorCode(error) === ErrorCode.LeaseLost) return this.leases.refused(job);
    this.log.error({ jobId: job.id, err: error }, 'recording a job’s failure failed');
  }
}

/** Runs `attempt` again, up to `CONFLICT_RERUNS` times, while its commit loses to another writer's (it reads again). */
async function rerunOnConflict(attempt: () => Promise<void>): Promise<void> {
  for (let run = 1; ; run++) {
    try {
      return await attempt();
    } catch (error) {
      if (errorCode(error) !== ErrorCode.JobCommitConflict || run >= CONFLICT_RERUNS) throw error;
    }
  }
}
