import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Todo, TodoTask } from '../../domain/model';
import { type TaskState, afterPush, isSynced, pushesNothing, reconcile, taskClientToken, taskDue, taskPush } from '../../domain/task-sync';
import { chatLink } from '../../feishu/app-links';
import { feishuRefusal } from '../../feishu/errors';
import type { FeishuTask } from '../../feishu/tasks';
import { t } from '../../i18n';
import { RetryLater } from '../../jobs/outbox';
import { type Clock, type JobContext, type JobKind, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import { groupSettings } from '../group-settings';
import { recordLanguage } from '../language';
import type { Services } from '../services';
import { TASK_SCOPES, subscribeTaskEvents } from '../task-sync';
import { cardUpdateJob } from './card-update';
import { feedSyncJob } from './feed';
import { noticeJob } from './notice';
import { todoLaneJob } from './todo-lane';

/**
 * A to-do's Feishu Task, kept in step both ways as durable jobs (in lanes of their own, see `TASK_LANES`):
 * `task.create` when the to-do is posted in a group that syncs, `task.sync` after a change in the group (Done,
 * Reopen, Snooze, Tomorrow, /recall), `task.reconcile` when Feishu says the task changed or the sweep comes by, and
 * `task.sweep`, which enqueues a reconcile of every synced to-do open or recently done. Each job reads the to-do when
 * it runs, so a burst of changes converges on the latest.
 */

const todoPayload = z.object({ todoId: z.string() });
const taskCreate = jobKind('task.create', todoPayload);
const taskSync = jobKind('task.sync', todoPayload);
const taskReconcile = jobKind('task.reconcile', todoPayload);
const taskSweep = jobKind('task.sweep', z.object({ windowStart: z.number() }));

/** A task create refused for want of the scope is tried this many times per to-do, then left. */
export const TASK_CREATE_TRIES = 3;

/** Feishu's answers meaning the app may not use Feishu Task: the scope missing, or the permission refused. */
const PERMISSION_CODES: ReadonlySet<number> = new Set([99991672, 99991679, 1470403]);

/** To-dos read per store page of a sweep; their reads wait for Feishu Task's rate limit like every other call. */
const SWEEP_PAGE = 200;
/**
 * Done to-dos are read back this long after they were done: a task reopened in Feishu Task whose event was missed is
 * found by the sweep; past this, a done to-do is left as it is, and its task read no more.
 */
const SWEEP_DONE_DAYS = 7;

/**
 * Task jobs run in a few lanes of their own, a to-do's always in the same one (so its create comes before its
 * changes): at most this many wait on Feishu Task's 10 calls a second at once, fleet-wide, rather than a burst of
 * them holding every slot of the outbox while posts and form cards wait behind.
 */
const TASK_LANES = 8;

function taskJob<Name extends string, Schema extends z.ZodType>(
  clock: Clock,
  kind: JobKind<Name, Schema>,
  todo: Todo,
  payload: z.input<Schema>,
  suffix?: string,
) {
  const job = todoLaneJob(clock, kind, todo, payload, suffix);
  return { ...job, lane: `task:${createHash('sha256').update(todo.id).digest().readUInt32BE(0) % TASK_LANES}` };
}

/** Creates the to-do's task: enqueued with the post, in a group that syncs. One per to-do. */
export function taskCreateJob(clock: Clock, todo: Todo) {
  return taskJob(clock, taskCreate, todo, { todoId: todo.id }, 'create');
}

/** Brings the task in step after a change in the group; nothing when the to-do has no task to keep in step. */
export function taskSyncJobs(clock: Clock, todo: Todo) {
  return todo.task && todo.task.deletedThere !== true ? [taskJob(clock, taskSync, todo, { todoId: todo.id })] : [];
}

/** Reads the task and follows what changed there; `key` names the occasion (an event id, a sweep). */
export function taskReconcileJob(clock: Clock, todo: Todo, key: string) {
  return taskJob(clock, taskReconcile, todo, { todoId: todo.id }, key);
}

/** The sweep of one window; sweeps share one lane, so one runs at a time, on whichever instance leases it. */
export function taskSweepJob(clock: Clock, windowStart: number) {
  const at = clock.now();
  return newJob(taskSweep, { id: `task.sweep:${windowStart}`, lane: 'task.sweep', payload: { windowStart }, runAt: at, createdAt: at });
}

/** What the bot knows of a task it read. */
function stateOf(task: FeishuTask | undefined): TaskState | undefined {
  return task && { completedAt: task.completedAt, assigneeIds: task.assigneeIds, dueAt: task.dueAt, dueAllDay: task.dueAllDay };
}

export function taskJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now, logger } = services;
  const log = logger.child({ module: 'task-sync' });

  /** Makes the task match the to-do, then records what it made it; a task found deleted is marked so. */
  async function push(ctx: JobContext, todoId: string): Promise<void> {
    const todo = await store.todo(todoId);
    if (!todo || !isSynced(todo)) return;
    const wanted = taskPush(todo);
    if (pushesNothing(wanted)) return;
    const { guid } = todo.task;
    let exists = true;
    if (wanted.completed !== undefined) exists = await feishu.tasks.setCompleted(guid, wanted.completed ?? undefined);
    if (exists && wanted.dueAt !== undefined) exists = await feishu.tasks.setDue(guid, wanted.dueAt ?? undefined);
    services.taskSync.working();
    const latest = (await store.todo(todoId)) ?? todo;
    if (!latest.task) return;
    const task: TodoTask = exists ? afterPush(latest.task, wanted) : { ...latest.task, deletedThere: true };
    await ctx.commit({ todos: [{ ...latest, task }], jobs: exists ? [] : [cardUpdateJob(services, latest)] });
  }

  /** After a change in the group: the task deleted with a recalled to-do, else made to match it. */
  async function bringInStep(ctx: JobContext, todoId: string): Promise<void> {
    const todo = await store.todo(todoId);
    if (!todo?.task || todo.task.deletedThere === true) return;
    if (todo.status !== 'recalled') return push(ctx, todoId);
    const { guid } = todo.task;
    await ctx.step('delete', () => feishu.tasks.delete(guid));
    const latest = (await store.todo(todoId)) ?? todo;
    if (latest.task) await ctx.commit({ todos: [{ ...latest, task: { ...latest.task, deletedThere: true } }] });
  }

  /** Told once per group, privately, to the creator of the to-do that found the scope missing. */
  async function tellAboutScope(ctx: JobContext, todo: Todo): Promise<void> {
    const chat = await store.chat(todo.chatId);
    if (chat?.taskScopeNoticeAt !== undefined) return;
    const lang = recordLanguage(services, todo);
    const record = chat ?? { v: 1 as const, id: todo.chatId, updatedAt: now() };
    await ctx.commit({
      chats: [{ ...record, taskScopeNoticeAt: now() }],
      jobs: [
        noticeJob(services, `task.scope:${todo.chatId}`, {
          chatId: todo.chatId,
          userId: todo.creatorId,
          text: t(lang, 'taskSync.scopeMissing', { scopes: TASK_SCOPES }),
          tone: 'warning',
          lang,
        }),
      ],
    });
  }

  const create = handle(taskCreate, {
    async run(ctx) {
      const { todoId } = ctx.payload;
      const todo = await store.todo(todoId);
      if (!todo || todo.task || (todo.status !== 'open' && todo.status !== 'done')) return;
      if ((await groupSettings(services, todo.chatId)).taskSync !== 'on') return;
      const lang = recordLanguage(services, todo);
      let created: FeishuTask;
      try {
        created = await ctx.step('create', () =>
          feishu.tasks.create({
            summary: todo.text,
            assigneeIds: todo.assigneeIds,
            followerIds: [todo.creatorId],
            dueAt: taskDue(todo),
            clientToken: taskClientToken(todo.id),
            origin: {
              name: { zh_cn: t('zh_cn', 'bot.name'), en_us: t('en_us', 'bot.name') },
              url: chatLink(todo.chatId, services.config.feishuDomain),
              title: t(lang, 'taskSync.originLink'),
            },
            extra: todo.id,
          }),
        );
      } catch (error) {
        const refusal = feishuRefusal(error);
        if (!refusal || !PERMISSION_CODES.has(refusal.feishuCode)) throw error;
        services.taskSync.refused(refusal.feishuCode, now());
        await tellAboutScope(ctx, todo);
        if (ctx.job.attempts + 1 < TASK_CREATE_TRIES) throw new RetryLater(`Feishu Task refused the app (${refusal.feishuCode})`);
        log.warn({ todoId, code: refusal.feishuCode }, 'task create refused for want of a scope; this to-do will not sync');
        return;
      }
      services.taskSync.working();
      await subscribeTaskEvents(services);
      const latest = (await store.todo(todoId)) ?? todo;
      // What the task was made with, so that what changed in the group since is pushed next.
      const task: TodoTask = { guid: created.guid, url: created.url, completed: false, ...(created.dueAt !== undefined && { dueAt: created.dueAt }) };
      await ctx.commit({ todos: [{ ...latest, task }], jobs: [cardUpdateJob(services, latest)] });
      await bringInStep(ctx, todoId);
    },
  });

  const sync = handle(taskSync, { run: (ctx) => bringInStep(ctx, ctx.payload.todoId) });

  const reconcileTask = handle(taskReconcile, {
    async run(ctx) {
      const { todoId } = ctx.payload;
      const todo = await store.todo(todoId);
      if (!todo || !isSynced(todo)) return;
      const read = stateOf(await feishu.tasks.get(todo.task.guid));
      services.taskSync.working();
      // Read again after the call: a click may have changed the to-do meanwhile, and wins over a stale read.
      const latest = (await store.todo(todoId)) ?? todo;
      const result = reconcile(latest, read, now());
      if (result.todo === latest) return;
      const jobs = [
        ...(result.card ? [cardUpdateJob(services, result.todo)] : []),
        ...(result.card || result.assignees ? [feedSyncJob(services, result.todo)] : []),
      ];
      if (result.card)
        log.info({ todoId, status: result.todo.status, deletedThere: result.todo.task?.deletedThere === true }, 'followed a change made in Feishu Task');
      await ctx.commit({ todos: [result.todo], jobs });
    },
  });

  /**
   * Pages through the synced to-dos, open or done in the last `SWEEP_DONE_DAYS`, each page's reconcile jobs stored
   * before the next page is read.
   */
  const sweep = handle(taskSweep, {
    async run({ payload: { windowStart }, commit }) {
      let after: string | undefined;
      const doneSince = windowStart - SWEEP_DONE_DAYS * 24 * 60 * 60_000;
      for (;;) {
        const page = await store.syncedTodos(SWEEP_PAGE, doneSince, after);
        if (page.length === 0) return;
        await commit({ jobs: page.map((todo) => taskReconcileJob(services, todo, `sweep-${windowStart}`)) });
        after = page.at(-1)?.id;
        if (page.length < SWEEP_PAGE) return;
      }
    },
  });

  return [create, sync, reconcileTask, sweep];
}
