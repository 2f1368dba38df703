import type { ChatSettings, Todo, TodoForm } from '../domain/model';
import { CodedError, ErrorCode } from '../errors';
import type { SharedLimits } from '../shared-limits';

/**
 * The bot's state, named by what the bot does with it, and asynchronous, so that one interface fits a store held in
 * this process (`embedded/`) and one shared by several instances (`postgres/`). Every race is decided by the store:
 * a commit writes all its parts or none, and refuses a record changed since it was read, an event id already seen
 * and a job whose lease has passed to another instance. Nothing relies on "no await between check and change".
 *
 * Records are plain JSON and immutable once read: a change is a changed copy passed to `commit`. Absent records are
 * `undefined`, never an exception.
 */

/** A unit of outbound work, recorded before it runs and resumed after a crash, by this instance or another. */
export interface Job {
  /** Stable and meaningful (`todo.post:<todoId>`): Feishu's `uuid`s are derived from it, so repeats are dropped. */
  id: string;
  kind: string;
  /** Jobs of one lane run one at a time, in the order they were enqueued. */
  lane: string;
  /** The chat the job acts in: a chat gets only a few jobs running at once, fleet-wide. */
  chatId?: string | undefined;
  /** Enqueue order, across the store. */
  seq: number;
  payload: unknown;
  /** Results of the steps already done: a resumed job skips them. */
  steps: Record<string, unknown>;
  attempts: number;
  runAt: number;
  createdAt: number;
  lastError?: string;
  /** Present on a job handed out by `claimJobs`: who runs it, until when, and the token that proves it. */
  lease?: Lease;
}

/**
 * A claim on a job. Leases run on the wall clock (`Date.now()`, or the database's clock), never on the bot's
 * injectable clock: they guard against dead instances, while due times belong to the domain's time.
 */
export interface Lease {
  owner: string;
  token: string;
  until: number;
}

/** A job as its enqueuer describes it; the store adds order, steps and attempts. */
export type NewJob = Pick<Job, 'id' | 'kind' | 'lane' | 'chatId' | 'payload' | 'runAt' | 'createdAt'>;

/** Changes that become durable together, or not at all. */
export interface Commit {
  /** When the change is made (the time an event id is remembered from). */
  now: number;
  /**
   * The push this commit handles (its event id; a message's id for a message): the whole commit is refused as
   * `duplicate` when the id was seen before.
   */
  eventId?: string;
  /**
   * Records to write. Each is written only if the stored record still has the revision the copy was read at
   * (`rev`; a record never stored has none, and is refused if one with its id exists); the store bumps `rev`.
   */
  forms?: readonly TodoForm[];
  todos?: readonly Todo[];
  chats?: readonly ChatSettings[];
  /** Enqueued unless a pending job has the same id (so a handler that runs twice enqueues once). */
  jobs?: readonly NewJob[];
  /** The job making this change: refused as `lease-lost` unless it still holds its lease. */
  by?: Job;
  /**
   * A budget the commit spends one point of (a person's commands in a chat), checked after every other condition and
   * in the same step as the writes: refused as `throttled` once the key has spent `limit` points in its window, and
   * the refusal is counted too. A commit refused for another reason spends nothing, so a repeated delivery of an
   * event is not counted twice.
   */
  budget?: Budget;
}

/**
 * Every instance's scheduler reads the store's next due time at least this often (src/jobs/scheduler.ts), so other
 * instances need not hear of a due time further off than this (and their clocks' difference): their next look finds it.
 */
export const DUE_LOOK_INTERVAL_MS = 60_000;

/** `Committed.dueAt` for a commit writing these records: the earliest open form's expiry and to-do's reminder. */
export function earliestDue(commit: Pick<Commit, 'forms' | 'todos'>): number | undefined {
  let earliest: number | undefined;
  for (const form of commit.forms ?? []) if (form.status === 'open') earliest = Math.min(earliest ?? form.expiresAt, form.expiresAt);
  for (const { remindAt } of commit.todos ?? []) if (remindAt !== undefined) earliest = Math.min(earliest ?? remindAt, remindAt);
  return earliest;
}

/** A window of `windowMs` starts at the commit (`now`) that first spends from the key after the last one ended. */
export interface Budget {
  key: string;
  limit: number;
  windowMs: number;
}

export type CommitResult =
  | { ok: true }
  | { ok: false; reason: 'duplicate' | 'stale' | 'lease-lost' }
  /** `first`: the first commit refused in its window (the one whose sender is told why). */
  | { ok: false; reason: 'throttled'; first: boolean };

/** What a commit may have made runnable or due, for the outbox and the scheduler, which listen for it. */
export interface Committed {
  /** New jobs, or jobs made runnable again. */
  jobs: boolean;
  /**
   * The earliest reminder or form expiry the commit wrote, if it wrote any: the scheduler looks again only if that
   * is sooner than the look it planned (a due time moved later only makes a planned look find nothing). 0 when any
   * due time may have moved: records imported, or other instances' notices lost.
   */
  dueAt?: number;
  /** Another instance made the commit (heard through the database), not this one. */
  elsewhere?: boolean;
  /**
   * The chats of the jobs this instance's commit enqueued (undefined for a job of no chat), when the store tells them:
   * the outbox then looks for work only if one of them could be taken.
   */
  jobChats?: ReadonlyArray<string | undefined>;
}

export interface JobClaim {
  /** This instance's name, written into each lease. */
  owner: string;
  /** The bot's time: jobs due by then are runnable. */
  now: number;
  /** How long a lease lasts unless renewed. */
  leaseMs: number;
  /** At most this many jobs. */
  max: number;
  /** At most this many leased jobs per chat, counting every instance's. */
  perChat: number;
}

export interface StoreStats {
  /** Whether a commit can be made durable now (the file is writable, the database answers). */
  writable: boolean;
  /** Jobs not yet finished, running ones included. */
  pendingJobs: number;
  /** Jobs under a live lease. */
  runningJobs: number;
  /** Jobs that failed at least once and wait for their next attempt. */
  retryingJobs: number;
  /** When the oldest unfinished job was enqueued. */
  oldestJobCreatedAt?: number;
  remindersPending: number;
  formsOpen: number;
}

/** One record as `npm run store -- export` writes it and `import` reads it: the same lines for every adapter. */
export interface ExportedRecord {
  collection: 'forms' | 'todos' | 'chats' | 'events' | 'jobs';
  key: string;
  value: unknown;
}

/** The job's lease passed to another instance (or was released): it must stop without writing anything. */
export class LeaseLost extends CodedError {
  readonly code = ErrorCode.LeaseLost;

  constructor(readonly jobId: string) {
    super(`job ${jobId} lost its lease`);
  }
}

/** Feishu retries a push for up to 6 h; event ids are kept a day so a late retry is still recognised. */
export const EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Closed forms are kept a week for the record, then pruned. */
export const CLOSED_FORM_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The store, split by who uses it (as the contract suite's blocks are): the bot reads and commits `Records`, the
 * outbox runs the `JobQueue`, housekeeping and the health check use `Upkeep`, and `npm run store` uses `Transfer`.
 * Each user is handed the part it needs; an adapter implements the whole `Store`.
 */

/** The bot's records: what it reads, the one way it changes them, and when they fall due. */
export interface Records {
  form(id: string): Promise<TodoForm | undefined>;
  /** The person's open form in a chat, if any. */
  openForm(chatId: string, ownerId: string): Promise<TodoForm | undefined>;
  /** The open form a `/todo` message opened in a chat (see `TodoForm.commandMessageId`), if any. */
  openFormOfCommand(chatId: string, commandMessageId: string): Promise<TodoForm | undefined>;
  /** The form whose card key is `key` (see `formCardKey`), in any state, while it is kept. */
  formByCardKey(key: string): Promise<TodoForm | undefined>;
  todo(id: string): Promise<Todo | undefined>;
  /** The to-do whose group card is this message, if the bot posted it. */
  todoByMessage(messageId: string): Promise<Todo | undefined>;
  /** The to-do whose Feishu Task this is (`todo.task.guid`), if any. */
  todoByTaskGuid(guid: string): Promise<Todo | undefined>;
  /**
   * To-dos with a Feishu Task not deleted there (the reconcile sweep's work): the open ones, and those done at or after
   * `doneSince` (a reopening there whose event was missed is found too), by id, at most `limit` of them after
   * `afterId`: a sweep pages through them.
   */
  syncedTodos(limit: number, doneSince: number, afterId?: string): Promise<Todo[]>;
  /** A chat's open to-dos, soonest reminder first, then oldest. */
  openTodos(chatId: string): Promise<Todo[]>;
  /**
   * The chat's newest to-do whose card is posted and not recalled: created by `creatorId`, and made in the topic
   * `threadId`, when given.
   */
  latestPostedTodo(chatId: string, filter?: { creatorId?: string | undefined; threadId?: string | undefined }): Promise<Todo | undefined>;
  chat(chatId: string): Promise<ChatSettings | undefined>;
  /** Every chat that has an open to-do (the daily digest and the nudges look only at those). */
  chatsWithOpenTodos(): Promise<string[]>;
  /** A chat's to-dos marked done at or after `since` and before `until`. */
  todosDoneBetween(chatId: string, since: number, until: number): Promise<Todo[]>;

  commit(commit: Commit): Promise<CommitResult>;

  /** The earliest time a reminder or a form expiry falls due. */
  nextDue(): Promise<number | undefined>;
  /** Open (or still posting) to-dos whose reminder is due, earliest first. */
  dueReminders(now: number, limit: number): Promise<Todo[]>;
  /** Open forms whose time is up, earliest first. */
  expiredForms(now: number, limit: number): Promise<TodoForm[]>;
}

/** The outbound work the outbox runs: jobs are enqueued by commits, then leased, stepped and finished here. */
export interface JobQueue {
  /**
   * Leases runnable jobs: the first unfinished job of each lane, unless a live lease holds it, due by `now`, in
   * about the order they were enqueued, keeping every chat within `perChat` leased jobs across the fleet. A job
   * whose lease expired (its instance died) is handed out again, steps and all. `nextRunAt`: when the earliest job
   * seen that is not yet due becomes runnable (the outbox's timer).
   */
  claimJobs(claim: JobClaim): Promise<{ jobs: Job[]; nextRunAt?: number }>;
  /**
   * Extends by `leaseMs` the leases these jobs (as handed out) still hold: the same token, not yet run out. Returns
   * the ids of those renewed; a lease that ran out is lost for good, even if no one took the job meanwhile.
   */
  renewLeases(jobs: readonly Job[], leaseMs: number): Promise<string[]>;
  /** Stores one step's result; throws `LeaseLost` when the job's lease is gone. */
  recordStep(job: Job, name: string, result: unknown): Promise<void>;
  /** Removes a finished (or abandoned) job; throws `LeaseLost` when the job's lease is gone. */
  finishJob(job: Job): Promise<void>;
  /**
   * Releases the job to run again at `runAt`, counting the attempt unless `attempted` is false (a job parked, not
   * run); throws `LeaseLost` when the lease is gone.
   */
  retryJob(job: Job, runAt: number, error: string, attempted?: boolean): Promise<void>;
  /** Releases every lease `owner` holds (a stopping instance), so other instances need not wait for them to expire. */
  releaseLeases(owner: string): Promise<void>;
  /** A job by id (tests and the export). */
  job(id: string): Promise<Job | undefined>;
}

/** Keeping the store in shape, and saying how it is (housekeeping, /healthz, the metrics). */
export interface Upkeep {
  /** Forgets what no longer matters: old event ids and long-closed forms. Returns how many records went. */
  prune(now: number): Promise<number>;
  stats(): Promise<StoreStats>;
}

/** Every record out, and into an empty store: `npm run store -- export|import`, the same lines for every adapter. */
export interface Transfer {
  exportRecords(): AsyncIterable<ExportedRecord>;
  /** Writes exported records into an empty store; refuses a store that already holds data. */
  importRecords(records: AsyncIterable<ExportedRecord>): Promise<number>;
}

export interface Store extends Records, JobQueue, Upkeep, Transfer {
  /** Brings the store up (reads the file, or migrates the database); throws a clear error when it cannot. */
  open(): Promise<void>;
  /** Makes everything durable, releases this instance's leases and locks, and closes. */
  close(): Promise<void>;
  /** Calls `listener` after each commit: this instance's at once, other instances' where the adapter hears of them. */
  onCommitted(listener: (committed: Committed) => void): () => void;
  /**
   * Offered by a store several instances share (PostgreSQL), absent on a store of one process: has the store tell the
   * other instances of a commit's new jobs only when `othersMayTake(jobChats)` says one of them might take a job this
   * instance will not (the outbox decides, `Outbox.othersMayTake`). Until it is set, and once the returned function
   * is called, every commit of jobs is told.
   */
  announceJobsWhen?(othersMayTake: (jobChats: ReadonlyArray<string | undefined>) => boolean): () => void;
  /**
   * Offered by a store several instances share (PostgreSQL), absent on a store of one process: where Feishu's rate
   * limits and the people's throttles are counted, so that they hold for the fleet (otherwise each process counts).
   */
  readonly sharedLimits?: SharedLimits;
  /** Offered by a store with a connection pool (PostgreSQL), for the metrics. */
  poolUsage?(): StorePool;
  /**
   * Offered by a store with a connection pool (PostgreSQL): the same store, its turns at the pool after the clicks',
   * for the work no person watches (the outbox, the jobs, the scheduled tasks), so that a click never queues behind
   * it. Committing through either tells the same listeners.
   */
  background?(): Store;
}

/** A connection pool right now: connections open, idle ones among them, and requests waiting for one. */
export interface StorePool {
  total: number;
  idle: number;
  waiting: number;
}
