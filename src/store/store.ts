import { RECORD_VERSION, type Todo, type TodoForm } from '../domain/model';
import { DueIndex } from './due-index';
import { JobQueues } from './job-queues';
import type { RecordStore } from './records';

/**
 * The bot's state, named by what the bot does with it. Reads come from memory; writes are staged and become
 * durable together at the next `flush()`, so a handler changes state and enqueues the work that follows from it
 * in one durable step. Absent records are `undefined`, never an exception.
 */

/** A unit of outbound work, recorded before it runs and resumed after a restart. */
export interface Job {
  v: typeof RECORD_VERSION;
  /** Stable and meaningful (`post:<formId>`): Feishu's `uuid`s are derived from it, so repeats are dropped. */
  id: string;
  kind: string;
  /** Jobs of one lane run one at a time, in the order they were enqueued. */
  lane: string;
  /** The chat the job acts in: a chat gets only a few jobs running at once, so a busy group cannot crowd out others. */
  chatId?: string;
  seq: number;
  payload: unknown;
  /** Results of the steps already done: a resumed job skips them. */
  steps: Record<string, unknown>;
  attempts: number;
  runAt: number;
  createdAt: number;
  lastError?: string;
}

/** The backlog in numbers (`StateStore.stats`), for /healthz and the metrics. */
export interface StoreStats {
  jobsPending: number;
  /** Pending jobs that failed at least once and wait for their next attempt. */
  jobsRetrying: number;
  /** Age of the oldest pending job, in ms; 0 when none. */
  oldestPendingJobAgeMs: number;
  remindersPending: number;
  formsOpen: number;
}

/** Feishu retries a push for up to 6 h; event ids are kept a day so a late retry is still recognised. */
export const EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Closed forms are kept a week for the record, then pruned. */
export const CLOSED_FORM_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export class StateStore {
  private readonly openForms = new Map<string, string>();
  private readonly formExpiry = new DueIndex();
  private readonly todosByChat = new Map<string, string[]>();
  private readonly todosByMessage = new Map<string, string>();
  private readonly reminders = new DueIndex();
  private readonly jobQueues = new JobQueues();
  /** Counted for `stats()`: to-dos with a reminder to come, jobs waiting after a failure. */
  private readonly pendingReminders = new Set<string>();
  private readonly retryingJobs = new Set<string>();
  private jobSeq = 0;

  constructor(private readonly records: RecordStore) {
    for (const form of records.values<TodoForm>('forms')) this.indexForm(form);
    for (const todo of records.values<Todo>('todos')) this.indexTodo(todo);
    for (const job of records.values<Job>('jobs')) {
      this.jobSeq = Math.max(this.jobSeq, job.seq);
      this.jobQueues.add(job.chatId, job.lane, job.id);
      this.countRetry(job);
    }
  }

  /**
   * The backlog in numbers, for /healthz and the metrics: answered from indexes kept as records change, so it costs
   * the same at any size. The oldest pending job is the first in the records' insertion order (see pendingJobs).
   */
  stats(now: number): StoreStats {
    const oldest = this.records.values<Job>('jobs').next();
    return {
      jobsPending: this.records.count('jobs'),
      jobsRetrying: this.retryingJobs.size,
      oldestPendingJobAgeMs: oldest.done ? 0 : Math.max(0, now - oldest.value.createdAt),
      remindersPending: this.pendingReminders.size,
      formsOpen: this.openForms.size,
    };
  }

  flush(): Promise<void> {
    return this.records.flush();
  }

  /** True the first time an event id is seen; the sighting is staged with the caller's other changes. */
  firstSighting(eventId: string, now: number): boolean {
    if (this.records.get('events', eventId) !== undefined) return false;
    this.records.put('events', eventId, now);
    return true;
  }

  form(id: string): TodoForm | undefined {
    const form = this.records.get<TodoForm>('forms', id);
    return form?.v === RECORD_VERSION ? form : undefined;
  }

  openForm(chatId: string, ownerId: string): TodoForm | undefined {
    const id = this.openForms.get(formKey(chatId, ownerId));
    return id === undefined ? undefined : this.form(id);
  }

  putForm(form: TodoForm): void {
    this.records.put('forms', form.id, form);
    this.indexForm(form);
  }

  /** Open forms whose time is up. */
  expiredForms(now: number): TodoForm[] {
    return this.formExpiry
      .popDue(now)
      .map((id) => this.form(id))
      .filter((form): form is TodoForm => form?.status === 'open' && form.expiresAt <= now);
  }

  nextFormExpiry(): number | undefined {
    return this.formExpiry.peek();
  }

  todo(id: string): Todo | undefined {
    const todo = this.records.get<Todo>('todos', id);
    return todo?.v === RECORD_VERSION ? todo : undefined;
  }

  putTodo(todo: Todo): void {
    const previous = this.records.get<Todo>('todos', todo.id);
    this.records.put('todos', todo.id, todo);
    this.countReminder(todo);
    if (!previous) this.indexTodo(todo);
    else {
      if (todo.messageId) this.todosByMessage.set(todo.messageId, todo.id);
      const reminderMoved = todo.remindAt !== previous.remindAt || (todo.status === 'open') !== (previous.status === 'open');
      if (reminderMoved) this.indexReminder(todo);
    }
  }

  /** Open to-dos whose reminder is due; each is returned once per due time. */
  dueReminders(now: number): Todo[] {
    const due = new Map<string, Todo>();
    for (const id of this.reminders.popDue(now)) {
      const todo = this.todo(id);
      if (todo?.status === 'open' && todo.remindAt !== undefined && todo.remindAt <= now) due.set(id, todo);
    }
    return [...due.values()];
  }

  nextReminder(): number | undefined {
    return this.reminders.peek();
  }

  /** The to-do whose group card is this message, if the bot posted it. */
  todoByMessage(messageId: string): Todo | undefined {
    const id = this.todosByMessage.get(messageId);
    return id === undefined ? undefined : this.todo(id);
  }

  /** The chat's to-dos, oldest first. */
  todosInChat(chatId: string): Todo[] {
    return (this.todosByChat.get(chatId) ?? []).map((id) => this.todo(id)).filter((todo): todo is Todo => todo !== undefined);
  }

  /** The chat's to-dos, newest first, that satisfy `accept`. */
  latestTodo(chatId: string, accept: (todo: Todo) => boolean): Todo | undefined {
    const ids = this.todosByChat.get(chatId) ?? [];
    for (let i = ids.length - 1; i >= 0; i--) {
      const todo = this.todo(ids[i] as string);
      if (todo && accept(todo)) return todo;
    }
    return undefined;
  }

  job(id: string): Job | undefined {
    return this.records.get<Job>('jobs', id);
  }

  /** Stages a new job unless one with this id exists (enqueueing is idempotent). */
  enqueue(job: Omit<Job, 'v' | 'seq' | 'steps' | 'attempts'>): void {
    if (this.job(job.id)) return;
    // Built field by field: on every push, and `{ ...job, v, seq, … }` costs V8 about 8 µs (properties added after
    // a spread reshape the copy one by one), 10 times this.
    const { id, kind, lane, chatId, payload, runAt, createdAt } = job;
    const stored: Job = { v: RECORD_VERSION, id, kind, lane, chatId, seq: ++this.jobSeq, payload, steps: {}, attempts: 0, runAt, createdAt };
    this.records.put('jobs', id, stored);
    this.jobQueues.add(job.chatId, job.lane, job.id);
  }

  /** Records a job's progress (steps done, attempts, next run); its id, lane and chat never change. */
  putJob(job: Job): void {
    this.records.put('jobs', job.id, job);
    this.countRetry(job);
  }

  deleteJob(id: string): void {
    const job = this.job(id);
    if (!job) return;
    this.jobQueues.remove(job.chatId, job.lane, id);
    this.retryingJobs.delete(id);
    this.records.delete('jobs', id);
  }

  /** Pending jobs by chat and lane, as the outbox picks them (see JobQueues). */
  jobLanes(): ReturnType<JobQueues['chats']> {
    return this.jobQueues.chats();
  }

  /**
   * Every job not yet finished, oldest first. Records keep insertion order (a rewrite keeps a key's place, the log
   * and the snapshot replay in order), and a job is inserted when enqueued, so no sort is needed: the outbox walks
   * this on every kick.
   */
  pendingJobs(): Job[] {
    return [...this.records.values<Job>('jobs')];
  }

  /** Forgets what no longer matters: old event ids and long-closed forms. */
  prune(now: number): number {
    let removed = 0;
    for (const [id, seenAt] of this.records.entries<number>('events')) {
      if (now - seenAt > EVENT_RETENTION_MS) {
        this.records.delete('events', id);
        removed++;
      }
    }
    for (const [id, form] of this.records.entries<TodoForm>('forms')) {
      const closed = form.status !== 'open' && form.status !== 'submitting';
      if (closed && now - form.updatedAt > CLOSED_FORM_RETENTION_MS) {
        this.records.delete('forms', id);
        removed++;
      }
    }
    return removed;
  }

  private indexForm(form: TodoForm): void {
    const key = formKey(form.chatId, form.ownerId);
    if (form.status === 'open') {
      this.openForms.set(key, form.id);
      this.formExpiry.add(form.expiresAt, form.id);
    } else if (this.openForms.get(key) === form.id) {
      this.openForms.delete(key);
    }
  }

  private countRetry(job: Job): void {
    if (job.attempts > 0) this.retryingJobs.add(job.id);
    else this.retryingJobs.delete(job.id);
  }

  private countReminder(todo: Todo): void {
    if (todo.remindAt !== undefined && (todo.status === 'open' || todo.status === 'posting')) this.pendingReminders.add(todo.id);
    else this.pendingReminders.delete(todo.id);
  }

  private indexReminder(todo: Todo): void {
    // A to-do still being posted is indexed too: its reminder must not be lost if it is due before the post ends.
    if (todo.remindAt !== undefined && (todo.status === 'open' || todo.status === 'posting')) this.reminders.add(todo.remindAt, todo.id);
  }

  private indexTodo(todo: Todo): void {
    this.indexReminder(todo);
    this.countReminder(todo);
    if (todo.messageId) this.todosByMessage.set(todo.messageId, todo.id);
    const ids = this.todosByChat.get(todo.chatId);
    if (ids) ids.push(todo.id);
    else this.todosByChat.set(todo.chatId, [todo.id]);
  }
}

function formKey(chatId: string, ownerId: string): string {
  return `${chatId}:${ownerId}`;
}
