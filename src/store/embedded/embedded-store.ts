import { type ChatSettings, RECORD_VERSION, type Revised, type Todo, type TodoForm } from '../../domain/model';
import { formCardKey } from '../../domain/todo-form';
import {
  CLOSED_FORM_RETENTION_MS,
  type Commit,
  type CommitResult,
  type Committed,
  EVENT_RETENTION_MS,
  type ExportedRecord,
  type Job,
  type JobClaim,
  type Store,
  type StoreStats,
  earliestDue,
} from '../store';
import { Budgets } from './budgets';
import { DueIndex } from './due-index';
import { JobBook } from './job-book';
import type { CollectionName, Persistence } from './persistence';
import { RecordStore } from './records';

/**
 * The store of one process: every record in memory (a `RecordStore`), made durable through a persistence (the lowdb
 * snapshot and change log by default). A commit checks all its conditions and applies all its changes in one
 * synchronous step, then resolves once the batch is durable; indexes (open forms, due times) live beside the
 * records, and the jobs' lanes and leases in a `JobBook`.
 */
export class EmbeddedStore implements Store {
  private readonly records: RecordStore;
  private readonly openForms = new Map<string, string>();
  /** Form ids by card key: a Submit click without a value names its form only by that key. */
  private readonly formsByCardKey = new Map<string, string>();
  private readonly formExpiry = new DueIndex();
  private readonly todosByChat = new Map<string, string[]>();
  private readonly todosByMessage = new Map<string, string>();
  private readonly todosByTask = new Map<string, string>();
  /** Ids of open to-dos with a Feishu Task not deleted there. */
  private readonly synced = new Set<string>();
  /**
   * `synced` in id order, made when a sweep first reads a page after the set changed: a sweep reads it page by page,
   * and sorting every id for each page made a sweep of n synced to-dos cost n² log n.
   */
  private syncedInOrder: string[] | undefined;
  private readonly reminders = new DueIndex();
  /** To-dos with a reminder still to come, counted for the metrics. */
  private readonly pendingReminders = new Set<string>();
  private readonly jobs: JobBook;
  private readonly budgets = new Budgets();
  private readonly listeners = new Set<(committed: Committed) => void>();

  constructor(persistence: Persistence) {
    this.records = new RecordStore(persistence);
    this.jobs = new JobBook(this.records);
  }

  async open(): Promise<void> {
    await this.records.open();
    for (const form of this.records.values<TodoForm>('forms')) this.indexForm(form);
    for (const todo of this.records.values<Todo>('todos')) this.indexTodo(todo, undefined);
    for (const job of this.records.values<Job>('jobs')) this.jobs.index(job);
  }

  async close(): Promise<void> {
    this.jobs.releaseAll();
    await this.records.close();
  }

  onCommitted(listener: (committed: Committed) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async form(id: string): Promise<TodoForm | undefined> {
    return this.current<TodoForm>('forms', id);
  }

  async openForm(chatId: string, ownerId: string): Promise<TodoForm | undefined> {
    const id = this.openForms.get(formKey(chatId, ownerId));
    return id === undefined ? undefined : this.current<TodoForm>('forms', id);
  }

  async openFormOfCommand(chatId: string, commandMessageId: string): Promise<TodoForm | undefined> {
    // Open forms are few (each person has at most one per chat, and they expire): a scan of them is enough.
    for (const id of this.openForms.values()) {
      const form = this.current<TodoForm>('forms', id);
      if (form?.chatId === chatId && form.commandMessageId === commandMessageId && form.status === 'open') return form;
    }
    return undefined;
  }

  async formByCardKey(key: string): Promise<TodoForm | undefined> {
    const id = this.formsByCardKey.get(key);
    return id === undefined ? undefined : this.current<TodoForm>('forms', id);
  }

  async todo(id: string): Promise<Todo | undefined> {
    return this.current<Todo>('todos', id);
  }

  async todoByMessage(messageId: string): Promise<Todo | undefined> {
    const id = this.todosByMessage.get(messageId);
    return id === undefined ? undefined : this.current<Todo>('todos', id);
  }

  async todoByTaskGuid(guid: string): Promise<Todo | undefined> {
    const id = this.todosByTask.get(guid);
    return id === undefined ? undefined : this.current<Todo>('todos', id);
  }

  async syncedTodos(limit: number, doneSince: number, afterId?: string): Promise<Todo[]> {
    this.syncedInOrder ??= [...this.synced].sort();
    const ids = this.syncedInOrder;
    const found: Todo[] = [];
    for (let i = afterId === undefined ? 0 : firstAfter(ids, afterId); i < ids.length && found.length < limit; i++) {
      const todo = this.current<Todo>('todos', ids[i] as string);
      if (todo && (todo.status === 'open' || (todo.doneAt ?? Number.NEGATIVE_INFINITY) >= doneSince)) found.push(todo);
    }
    return found;
  }

  async openTodos(chatId: string): Promise<Todo[]> {
    return this.todosOf(chatId)
      .filter((todo) => todo.status === 'open')
      .sort((a, b) => (a.remindAt ?? Number.POSITIVE_INFINITY) - (b.remindAt ?? Number.POSITIVE_INFINITY));
  }

  async latestPostedTodo(
    chatId: string,
    { creatorId, threadId }: { creatorId?: string | undefined; threadId?: string | undefined } = {},
  ): Promise<Todo | undefined> {
    const ids = this.todosByChat.get(chatId) ?? [];
    for (let i = ids.length - 1; i >= 0; i--) {
      const todo = this.current<Todo>('todos', ids[i] as string);
      if (todo?.messageId === undefined || todo.status === 'recalled') continue;
      if ((creatorId === undefined || todo.creatorId === creatorId) && (threadId === undefined || todo.threadId === threadId)) return todo;
    }
    return undefined;
  }

  async chat(chatId: string): Promise<ChatSettings | undefined> {
    return this.current<ChatSettings>('chats', chatId);
  }

  async chatsWithOpenTodos(): Promise<string[]> {
    return [...this.todosByChat.keys()].filter((chatId) => this.todosOf(chatId).some((todo) => todo.status === 'open'));
  }

  async todosDoneBetween(chatId: string, since: number, until: number): Promise<Todo[]> {
    return this.todosOf(chatId).filter((todo) => todo.status === 'done' && todo.doneAt !== undefined && todo.doneAt >= since && todo.doneAt < until);
  }

  async commit(commit: Commit): Promise<CommitResult> {
    // Every condition is checked, and every change applied, with no await in between: one step for other callers.
    if (commit.by && !this.jobs.holds(commit.by)) return { ok: false, reason: 'lease-lost' };
    if (commit.eventId !== undefined && this.records.get('events', commit.eventId) !== undefined) {
      // The first delivery may still be on its way to disk; answering the repeat before it is would let Feishu stop
      // retrying an event a crash could still lose.
      await this.records.flush();
      return { ok: false, reason: 'duplicate' };
    }
    const writes: Array<[CollectionName, Revised & { id: string }]> = [
      ...(commit.forms ?? []).map((r) => ['forms', r] as [CollectionName, TodoForm]),
      ...(commit.todos ?? []).map((r) => ['todos', r] as [CollectionName, Todo]),
      ...(commit.chats ?? []).map((r) => ['chats', r] as [CollectionName, ChatSettings]),
    ];
    for (const [collection, record] of writes) {
      const stored = this.records.get<Revised>(collection, record.id);
      if (stored?.rev !== record.rev || (stored === undefined && record.rev !== undefined)) return { ok: false, reason: 'stale' };
    }
    if (commit.budget) {
      const spent = this.budgets.spend(commit.budget, commit.now);
      if (spent > commit.budget.limit) return { ok: false, reason: 'throttled', first: spent === commit.budget.limit + 1 };
    }

    if (commit.eventId !== undefined) this.records.put('events', commit.eventId, commit.now);
    for (const [collection, record] of writes) {
      const written = { ...record, rev: (record.rev ?? 0) + 1 };
      if (collection === 'forms') this.putForm(written as TodoForm);
      else if (collection === 'todos') this.putTodo(written as Todo);
      else this.records.put(collection, written.id, written);
    }
    const enqueued = (commit.jobs ?? []).filter((job) => this.jobs.enqueue(job));
    await this.records.flush();
    const dueAt = earliestDue(commit);
    this.emit({ jobs: enqueued.length > 0, ...(dueAt !== undefined && { dueAt }), jobChats: enqueued.map((job) => job.chatId) });
    return { ok: true };
  }

  async nextDue(): Promise<number | undefined> {
    const times = [this.reminders.peek(), this.formExpiry.peek()].filter((t): t is number => t !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  async dueReminders(now: number, limit: number): Promise<Todo[]> {
    return this.due(this.reminders, 'todos', now, limit, (todo: Todo, at) => isRemindable(todo) && todo.remindAt === at);
  }

  async expiredForms(now: number, limit: number): Promise<TodoForm[]> {
    return this.due(this.formExpiry, 'forms', now, limit, (form: TodoForm, at) => form.status === 'open' && form.expiresAt === at);
  }

  async claimJobs(claim: JobClaim): Promise<{ jobs: Job[]; nextRunAt?: number }> {
    return this.jobs.claim(claim);
  }

  async renewLeases(jobs: readonly Job[], leaseMs: number): Promise<string[]> {
    return this.jobs.renew(jobs, leaseMs);
  }

  async recordStep(job: Job, name: string, result: unknown): Promise<void> {
    this.jobs.recordStep(job, name, result);
    await this.records.flush();
  }

  async finishJob(job: Job): Promise<void> {
    this.jobs.finish(job);
    await this.records.flush();
    this.emit({ jobs: true });
  }

  async retryJob(job: Job, runAt: number, error: string, attempted = true): Promise<void> {
    this.jobs.retry(job, runAt, error, attempted);
    await this.records.flush();
    this.emit({ jobs: true });
  }

  async releaseLeases(owner: string): Promise<void> {
    this.jobs.release(owner);
    this.emit({ jobs: true });
  }

  async job(id: string): Promise<Job | undefined> {
    return this.jobs.get(id);
  }

  async prune(now: number): Promise<number> {
    this.budgets.prune(now);
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
        this.formsByCardKey.delete(formCardKey(id));
        removed++;
      }
    }
    await this.records.flush();
    return removed;
  }

  async stats(): Promise<StoreStats> {
    const { running, retrying } = this.jobs.counts();
    const oldest = this.records.values<Job>('jobs').next();
    return {
      writable: this.records.writable,
      pendingJobs: this.records.count('jobs'),
      runningJobs: running,
      retryingJobs: retrying,
      ...(!oldest.done && { oldestJobCreatedAt: oldest.value.createdAt }),
      remindersPending: this.pendingReminders.size,
      formsOpen: this.openForms.size,
    };
  }

  async *exportRecords(): AsyncIterable<ExportedRecord> {
    for (const collection of ['chats', 'forms', 'todos', 'events', 'jobs'] as const) {
      for (const [key, value] of this.records.entries(collection)) yield { collection, key, value };
    }
  }

  async importRecords(records: AsyncIterable<ExportedRecord>): Promise<number> {
    if ((['forms', 'todos', 'chats', 'jobs'] as const).some((name) => this.records.count(name) > 0)) {
      throw new Error('the store already holds data; import only into an empty store');
    }
    let count = 0;
    for await (const { collection, key, value } of records) {
      if (collection === 'forms') this.putForm(value as TodoForm);
      else if (collection === 'todos') this.putTodo(value as Todo);
      else if (collection === 'jobs') this.importJob(value as Job);
      else this.records.put(collection, key, value);
      count++;
    }
    await this.records.flush();
    this.emit({ jobs: true, dueAt: 0 });
    return count;
  }

  /** A record of the current version, or undefined: one of another version is read as gone, never misread. */
  private current<T extends { v: number }>(collection: CollectionName, id: string): T | undefined {
    const record = this.records.get<T>(collection, id);
    return record?.v === RECORD_VERSION ? record : undefined;
  }

  private todosOf(chatId: string): Todo[] {
    return (this.todosByChat.get(chatId) ?? []).map((id) => this.current<Todo>('todos', id)).filter((todo): todo is Todo => todo !== undefined);
  }

  /**
   * Entries of a due index that are due and still true of their record, at most `limit`, each record once. They stay
   * indexed until their record moves on (a claimed reminder gets its next time, an expired form is closed), so a
   * caller whose commit loses a race finds them again; entries whose record moved on are dropped here.
   */
  private due<T extends { id: string; v: number }>(
    index: DueIndex,
    collection: CollectionName,
    now: number,
    limit: number,
    valid: (record: T, at: number) => boolean,
  ): T[] {
    const found = new Map<string, T>();
    const keep: Array<[number, string]> = [];
    for (const [at, id] of index.popDue(now)) {
      const record = this.current<T>(collection, id);
      if (!record || !valid(record, at)) continue;
      keep.push([at, id]);
      if (found.size < limit) found.set(id, record);
    }
    for (const [at, id] of keep) index.add(at, id);
    return [...found.values()];
  }

  private putForm(form: TodoForm): void {
    this.records.put('forms', form.id, form);
    this.indexForm(form);
  }

  private putTodo(todo: Todo): void {
    const previous = this.records.get<Todo>('todos', todo.id);
    this.records.put('todos', todo.id, todo);
    this.indexTodo(todo, previous);
  }

  private importJob(job: Job): void {
    const { lease: _lease, ...stored } = job;
    this.records.put('jobs', stored.id, stored);
    this.jobs.index(stored);
  }

  private emit(committed: Committed): void {
    for (const listener of this.listeners) listener(committed);
  }

  private indexForm(form: TodoForm): void {
    this.formsByCardKey.set(formCardKey(form.id), form.id);
    const key = formKey(form.chatId, form.ownerId);
    if (form.status === 'open') {
      this.openForms.set(key, form.id);
      this.formExpiry.add(form.expiresAt, form.id);
    } else if (this.openForms.get(key) === form.id) {
      this.openForms.delete(key);
    }
  }

  private indexTodo(todo: Todo, previous: Todo | undefined): void {
    if (todo.messageId) this.todosByMessage.set(todo.messageId, todo.id);
    // Found by its posted card and by its current card; a card that was current before (a reminder since replaced
    // by a newer one) no longer is, as in the database, which keeps one current card per to-do.
    const card = todo.currentCard?.messageId;
    const replaced = previous?.currentCard?.messageId;
    if (replaced !== undefined && replaced !== card && replaced !== todo.messageId) this.todosByMessage.delete(replaced);
    if (card !== undefined) this.todosByMessage.set(card, todo.id);
    if (todo.task) this.todosByTask.set(todo.task.guid, todo.id);
    if (isSynced(todo) !== this.synced.has(todo.id)) {
      if (isSynced(todo)) this.synced.add(todo.id);
      else this.synced.delete(todo.id);
      this.syncedInOrder = undefined;
    }
    if (isRemindable(todo)) this.pendingReminders.add(todo.id);
    else this.pendingReminders.delete(todo.id);
    // A to-do still being posted is indexed too: its reminder must not be lost if it is due before the post ends.
    if (isRemindable(todo) && (todo.remindAt !== previous?.remindAt || !previous || !isRemindable(previous)))
      this.reminders.add(todo.remindAt as number, todo.id);
    if (previous) return;
    const ids = this.todosByChat.get(todo.chatId);
    if (ids) ids.push(todo.id);
    else this.todosByChat.set(todo.chatId, [todo.id]);
  }
}

/** The index of the first of the sorted `ids` that sorts after `id` (`ids.length` when none does). */
function firstAfter(ids: readonly string[], id: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ids[middle] as string) <= id) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Open or done, with a task not deleted there: what `syncedTodos` looks through. */
function isSynced(todo: Todo): boolean {
  return (todo.status === 'open' || todo.status === 'done') && todo.task !== undefined && todo.task.deletedThere !== true;
}

function isRemindable(todo: Todo): boolean {
  return todo.remindAt !== undefined && (todo.status === 'open' || todo.status === 'posting');
}

function formKey(chatId: string, ownerId: string): string {
  return `${chatId}:${ownerId}`;
}
