import type pg from 'pg';
import { type ChatSettings, RECORD_VERSION, type Todo, type TodoForm } from '../../domain/model';
import { CodedError, ErrorCode } from '../../errors';
import {
  type Commit,
  type CommitResult,
  type Committed,
  DUE_LOOK_INTERVAL_MS,
  type ExportedRecord,
  type Job,
  type JobClaim,
  type NewJob,
  type Store,
  type StorePool,
  type StoreStats,
  earliestDue,
} from '../store';
import { CommitChannel } from './commit-channel';
import { Database, type PostgresOptions } from './database';
import { GroupCommit } from './group-commit';
import { PostgresJobs, newJobArrays } from './job-queue';
import { laneKeyPrefix } from './job-sql';
import { migrate } from './migrate';
import { type RecordCollection, type RecordStatements, recordStatements, writeValues } from './record-sql';
import { StoreOpenError } from './settings';
import { PostgresSharedLimits } from './shared-limits';
import { exportRecords, importRecords } from './transfer';

/**
 * The store several instances share: every record in PostgreSQL, every race decided by the database. A commit is one
 * transaction that remembers the event id (`ON CONFLICT DO NOTHING`: none inserted, it was seen), writes each record
 * only from the revision it was read at, and enqueues jobs; any refusal rolls all of it back. A push's commit (no
 * record written) shares its statement and transaction with the pushes made while the previous one was under way,
 * each decided as if alone (`GroupCommit`). Other instances hear of it through NOTIFY, this one's listeners at once.
 * Tables live in one schema, created and migrated at `open()`.
 */
export class PostgresStore implements Store {
  private readonly db: Database;
  private readonly sql: RecordStatements;
  private readonly channel: CommitChannel;
  private readonly jobs: PostgresJobs;
  private readonly pushes: GroupCommit;
  private readonly listeners = new Set<(committed: Committed) => void>();
  /** Held in an object so that the background view (see `background`) sets the same one. */
  private readonly announcing = { othersMayTake: ALWAYS as (jobChats: ReadonlyArray<string | undefined>) => boolean };
  private readonly laneKey: string;
  private closed = false;
  readonly sharedLimits: PostgresSharedLimits;

  constructor(private readonly options: PostgresOptions) {
    this.db = new Database(options);
    this.sql = recordStatements(this.db.s);
    this.laneKey = laneKeyPrefix(this.db.schema);
    this.channel = new CommitChannel(options.url, this.db.schema, (committed) => this.heard(committed), options.logger);
    this.jobs = new PostgresJobs(this.db.background, this.channel, (committed) => this.emit(committed));
    const notice = this.channel.notice({ jobs: true });
    // Pushes take the background's turns at the pool: no person waits on a push's answer (Feishu gives it 3 s), and
    // ahead of the jobs' statements they held back a burst's sends (1,000 forms through three instances: 40.7-40.8
    // sends a second against 44.1-44.5 in their turn).
    this.pushes = new GroupCommit(this.db.background, this.sql.commitPushes, this.laneKey, {
      name: this.channel.name,
      notice: (jobs) => (this.announces(jobs) ? notice : null),
    });
    this.sharedLimits = new PostgresSharedLimits(this.db);
  }

  async open(): Promise<void> {
    try {
      await migrate(this.options.url, this.db.schema, this.options.logger);
      await this.channel.start();
    } catch (error) {
      await this.channel.stop();
      await this.db.end();
      throw new StoreOpenError(this.db.options.url, this.db.schema, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const owner of this.jobs.owners) await this.jobs.release(owner);
    } finally {
      await this.channel.stop();
      await this.db.end();
    }
  }

  poolUsage(): StorePool {
    const { totalCount, idleCount } = this.db.pool;
    return { total: totalCount, idle: idleCount, waiting: this.db.waiting };
  }

  /**
   * This store taking the background's turns at the pool (`Database.background`): an object whose prototype is this
   * store, with its own `db`, so that it shares everything else (the listeners, the commit channel, the group commit,
   * the jobs' queue). Its `commit` is the class's own, whatever was set on this store's (a wrapper bound to this store
   * would commit in this store's turns).
   */
  background(): PostgresStore {
    return Object.create(this, { db: { value: this.db.background }, commit: { value: PostgresStore.prototype.commit, writable: true } }) as PostgresStore;
  }

  /** The connection pool (tests read the server's settings through it). */
  get database(): Database {
    return this.db;
  }

  onCommitted(listener: (committed: Committed) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  announceJobsWhen(othersMayTake: (jobChats: ReadonlyArray<string | undefined>) => boolean): () => void {
    this.announcing.othersMayTake = othersMayTake;
    return () => {
      if (this.announcing.othersMayTake === othersMayTake) this.announcing.othersMayTake = ALWAYS;
    };
  }

  form(id: string): Promise<TodoForm | undefined> {
    return this.one(this.sql.byId.forms, [id]);
  }

  openForm(chatId: string, ownerId: string): Promise<TodoForm | undefined> {
    return this.one(this.sql.openForm, [chatId, ownerId]);
  }

  openFormOfCommand(chatId: string, commandMessageId: string): Promise<TodoForm | undefined> {
    return this.one(this.sql.openFormOfCommand, [chatId, commandMessageId]);
  }

  formByCardKey(key: string): Promise<TodoForm | undefined> {
    return this.one(this.sql.formByCardKey, [key]);
  }

  todo(id: string): Promise<Todo | undefined> {
    return this.one(this.sql.byId.todos, [id]);
  }

  todoByMessage(messageId: string): Promise<Todo | undefined> {
    return this.one(this.sql.todoByMessage, [messageId]);
  }

  todoByTaskGuid(guid: string): Promise<Todo | undefined> {
    return this.one(this.sql.todoByTaskGuid, [guid]);
  }

  syncedTodos(limit: number, doneSince: number, afterId?: string): Promise<Todo[]> {
    return this.many<Todo>(this.sql.syncedTodos, [afterId ?? '', limit, doneSince]);
  }

  openTodos(chatId: string): Promise<Todo[]> {
    return this.many<Todo>(this.sql.openTodos, [chatId]);
  }

  latestPostedTodo(chatId: string, { creatorId, threadId }: { creatorId?: string | undefined; threadId?: string | undefined } = {}): Promise<Todo | undefined> {
    if (threadId !== undefined) return this.one(this.sql.latestPostedTodoInThread, [chatId, threadId, creatorId ?? null]);
    return creatorId === undefined ? this.one(this.sql.latestPostedTodo, [chatId]) : this.one(this.sql.latestPostedTodoBy, [chatId, creatorId]);
  }

  chat(chatId: string): Promise<ChatSettings | undefined> {
    return this.one(this.sql.byId.chats, [chatId]);
  }

  async chatsWithOpenTodos(): Promise<string[]> {
    return (await this.db.query<{ chat_id: string }>(this.sql.chatsWithOpenTodos, [])).rows.map((row) => row.chat_id);
  }

  todosDoneBetween(chatId: string, since: number, until: number): Promise<Todo[]> {
    return this.many<Todo>(this.sql.todosDoneBetween, [chatId, since, until]);
  }

  async commit(commit: Commit): Promise<CommitResult> {
    const writes: Array<[RecordCollection, TodoForm | Todo | ChatSettings]> = [
      ...(commit.forms ?? []).map((record) => ['forms', record] as [RecordCollection, TodoForm]),
      ...(commit.todos ?? []).map((record) => ['todos', record] as [RecordCollection, Todo]),
      ...(commit.chats ?? []).map((record) => ['chats', record] as [RecordCollection, ChatSettings]),
    ];
    // One order for every commit's row locks, so that two commits never wait on each other in a cycle.
    writes.sort(([c1, r1], [c2, r2]) => c1.localeCompare(c2) || r1.id.localeCompare(r2.id));
    const dueAt = earliestDue(commit);
    const due = dueAt !== undefined ? { dueAt } : {};
    // The other instances hear of a due time only if it may come before their schedulers' next look. A NOTIFY queues
    // the commits of every notifying transaction behind each other, and wakes every instance.
    const toldDue = dueAt !== undefined && dueAt < commit.now + DUE_LOOK_INTERVAL_MS + CLOCK_DIFFERENCE_MS ? due : {};
    const jobs = commit.jobs ?? [];
    const lanes = [...new Set(jobs.map((job) => job.lane))].sort();
    // The budget, the event, the lanes' locks, the jobs and the notice telling the other instances of them (heard
    // only if the commit holds: a notice waits for its transaction), in one call; none when no one need hear.
    const { budget } = commit;
    const commitJobs = async (client: pg.PoolClient) => {
      const announced = this.announces(jobs);
      const args = [
        commit.eventId ?? null,
        commit.now,
        this.laneKey,
        lanes,
        ...newJobArrays(jobs),
        this.channel.name,
        announced || toldDue.dueAt !== undefined ? this.channel.notice({ jobs: announced, ...toldDue }) : null,
      ];
      const enqueued = budget
        ? await this.db.query<{ enqueued: number }>(this.sql.commitBudgetedJobs, [budget.key, budget.limit, budget.windowMs, ...args], client)
        : await this.db.query<{ enqueued: number }>(this.sql.commitJobs, args, client);
      const answer = enqueued.rows[0]?.enqueued ?? 0;
      if (answer === DUPLICATE) throw new Refused('duplicate');
      return answer;
    };
    let enqueued: number;
    try {
      // A push (an event id and its job, nothing read before) goes with the other pushes of its moment, one round
      // trip for all of them.
      if (writes.length === 0 && !commit.by) {
        enqueued = await this.pushes.commit({ eventId: commit.eventId, now: commit.now, jobs, lanes, budget });
        if (enqueued === DUPLICATE) throw new Refused('duplicate');
      } else {
        enqueued = await this.db.transaction(async (client) => {
          if (commit.by && !(await this.jobs.holds(client, commit.by))) throw new Refused('lease-lost');
          const count = commit.eventId !== undefined || lanes.length > 0 || budget ? await commitJobs(client) : 0;
          // Throttled: the transaction keeps the point spent, and nothing else was written.
          if (count === THROTTLED_FIRST || count === THROTTLED_AGAIN) return count;
          for (const [collection, record] of writes) {
            const values = writeValues(collection, { ...record, rev: (record.rev ?? 0) + 1 });
            const { insert, update } = this.sql.writes[collection];
            const written =
              record.rev === undefined ? await this.db.query(insert, values, client) : await this.db.query(update, [...values, record.rev], client);
            if (written.rowCount === 0) throw new Refused('stale');
          }
          if (toldDue.dueAt !== undefined && lanes.length === 0)
            await this.db.query(NOTIFY, [this.channel.name, this.channel.notice({ jobs: false, ...toldDue })], client);
          return count;
        });
      }
    } catch (error) {
      if (error instanceof Refused) return { ok: false, reason: error.reason };
      throw error;
    }
    if (enqueued === THROTTLED_FIRST || enqueued === THROTTLED_AGAIN) return { ok: false, reason: 'throttled', first: enqueued === THROTTLED_FIRST };
    this.emit({ jobs: enqueued > 0, ...due, jobChats: jobs.map((job) => job.chatId) });
    return { ok: true };
  }

  async nextDue(): Promise<number | undefined> {
    const at = (await this.db.query<{ at: string | null }>(this.sql.nextDue)).rows[0]?.at;
    return at === null || at === undefined ? undefined : Number(at);
  }

  dueReminders(now: number, limit: number): Promise<Todo[]> {
    return this.many(this.sql.dueReminders, [now, limit]);
  }

  expiredForms(now: number, limit: number): Promise<TodoForm[]> {
    return this.many(this.sql.expiredForms, [now, limit]);
  }

  claimJobs(claim: JobClaim): Promise<{ jobs: Job[]; nextRunAt?: number }> {
    return this.jobs.claim(claim);
  }

  renewLeases(jobs: readonly Job[], leaseMs: number): Promise<string[]> {
    return this.jobs.renew(jobs, leaseMs);
  }

  recordStep(job: Job, name: string, result: unknown): Promise<void> {
    return this.jobs.recordStep(job, name, result);
  }

  finishJob(job: Job): Promise<void> {
    return this.jobs.finish(job);
  }

  retryJob(job: Job, runAt: number, error: string, attempted = true): Promise<void> {
    return this.jobs.retry(job, runAt, error, attempted);
  }

  releaseLeases(owner: string): Promise<void> {
    return this.jobs.release(owner);
  }

  job(id: string): Promise<Job | undefined> {
    return this.jobs.job(id);
  }

  /** In batches, so that each statement stays well within `QUERY_TIMEOUT_MS` however much an hour left behind. */
  async prune(now: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const row = (await this.db.queryRetried<{ events: string; forms: string }>(this.sql.prune, [now, PRUNE_BATCH])).rows[0];
      const events = Number(row?.events ?? 0);
      const forms = Number(row?.forms ?? 0);
      removed += events + forms;
      if (events < PRUNE_BATCH && forms < PRUNE_BATCH) return removed;
    }
  }

  async stats(): Promise<StoreStats> {
    const row = (await this.db.query<Record<'pending' | 'running' | 'retrying' | 'oldest' | 'reminders' | 'forms', string | null>>(this.sql.stats)).rows[0];
    // The database answered, so it takes commits; one that cannot be reached makes this call throw instead.
    return {
      writable: true,
      pendingJobs: Number(row?.pending ?? 0),
      runningJobs: Number(row?.running ?? 0),
      retryingJobs: Number(row?.retrying ?? 0),
      ...(row?.oldest != null && { oldestJobCreatedAt: Number(row.oldest) }),
      remindersPending: Number(row?.reminders ?? 0),
      formsOpen: Number(row?.forms ?? 0),
    };
  }

  exportRecords(): AsyncIterable<ExportedRecord> {
    return exportRecords(this.db);
  }

  async importRecords(records: AsyncIterable<ExportedRecord>): Promise<number> {
    const count = await importRecords(this.db, records);
    await this.db.query(NOTIFY, [this.channel.name, this.channel.notice({ jobs: true, dueAt: 0 })]);
    this.emit({ jobs: true, dueAt: 0 });
    return count;
  }

  /** A record of the current version, or undefined: one of another version is read as gone, never misread. */
  private async one<T extends { v: number }>(statement: { name: string; text: string }, values: unknown[]): Promise<T | undefined> {
    const record = (await this.db.query<{ record: T }>(statement, values)).rows[0]?.record;
    return record?.v === RECORD_VERSION ? record : undefined;
  }

  private async many<T extends { v: number }>(statement: { name: string; text: string }, values: unknown[]): Promise<T[]> {
    const { rows } = await this.db.query<{ record: T }>(statement, values);
    return rows.map((row) => row.record).filter((record) => record.v === RECORD_VERSION);
  }

  /** Whether the other instances should hear of these new jobs (see `announceJobsWhen`). */
  private announces(jobs: readonly NewJob[]): boolean {
    return jobs.length > 0 && this.announcing.othersMayTake(jobs.map((job) => job.chatId));
  }

  private emit(committed: Committed): void {
    for (const listener of this.listeners) listener(committed);
  }

  /** Another instance committed: a listener's failure must not end the notification connection's handler. */
  private heard(committed: Committed): void {
    try {
      this.emit({ ...committed, elsewhere: true });
    } catch (error) {
      this.options.logger?.error({ err: error }, 'a commit listener failed');
    }
  }
}

const NOTIFY = { name: 'notify', text: 'SELECT pg_notify($1, $2)' };
/**
 * A margin for instances' clocks (NTP keeps them milliseconds apart) on a due time the other instances are not told
 * of: one whose scheduler planned its look on a clock behind this one's must still look before it.
 */
const CLOCK_DIFFERENCE_MS = 5_000;
/** Event ids, and forms, removed by one statement of `prune` at most: a fraction of a second's work. */
export const PRUNE_BATCH = 5_000;
/** Until the outbox says otherwise, every commit of jobs is told to the other instances. */
const ALWAYS = () => true;

/** What `commit_jobs` and `commit_budgeted_jobs` answer instead of the jobs enqueued (migrations 0005, 0010). */
const DUPLICATE = -1;
const THROTTLED_FIRST = -2;
const THROTTLED_AGAIN = -3;

/** A commit's condition failed: the transaction is rolled back and the caller told why. */
class Refused extends CodedError {
  readonly code = ErrorCode.CommitRefused;

  constructor(readonly reason: 'duplicate' | 'stale' | 'lease-lost') {
    super(reason);
  }
}
