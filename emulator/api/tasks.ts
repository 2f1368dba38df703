import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Code, FeishuError, scopeMissing } from '../errors';
import { perSecond } from '../rate-limits';
import type { EmulatorState } from '../state';
import type { EmulatedTask } from '../types';
import { type Handler, ok } from './exchange';

/**
 * Feishu Task v2 as an app meets it (shapes from the SDK's generated client, code-gen/projects/task.ts; codes and the
 * limit from Feishu's task-v2 pages): create, get, patch, delete, and the app's subscription to task events. The
 * app sees only the tasks it created; a deleted task answers 1470404 to every call.
 */

/** The documented limit of the task-v2 calls (the delete page: 10/s per app); applied to each call alike. */
export const TASK_CALLS_PER_SECOND = 10;

/** The scopes Feishu names when a task call lacks its scope. */
const TASK_SCOPES = ['task:task:write', 'task:task:writeonly'];
const TASK_READ_SCOPES = ['task:task:read', 'task:task:write'];

const Member = z.object({ id: z.string().min(1), type: z.string().optional(), role: z.enum(['assignee', 'follower']) });
const Due = z.object({ timestamp: z.string().regex(/^\d+$/, 'a string of milliseconds'), is_all_day: z.boolean().optional() });

const CreateBody = z.object({
  summary: z.string().min(1).max(3000),
  description: z.string().max(3000).optional(),
  due: Due.optional(),
  members: z.array(Member).max(50).optional(),
  client_token: z.string().min(1).max(100).optional(),
  origin: z
    .object({
      platform_i18n_name: z.record(z.string(), z.string()).optional(),
      href: z
        .object({
          url: z
            .string()
            .regex(/^(https?|applink):/, 'should start with http, https or applink')
            .optional(),
          title: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  extra: z.string().optional(),
  repeat_rule: z
    .string()
    .regex(/^FREQ=/, 'an RRULE')
    .optional(),
  mode: z.union([z.literal(1), z.literal(2)]).optional(),
  reminders: z
    .array(z.object({ relative_fire_minute: z.number().int() }))
    .max(1)
    .optional(),
});

const PATCHABLE = ['summary', 'description', 'due', 'completed_at', 'extra', 'repeat_rule', 'mode'] as const;
type Patchable = (typeof PATCHABLE)[number];

/**
 * The `event_types` of the event a PATCH of each field sets off. Feishu's pages name `task_completed_update`,
 * `task_assignees_update` and `task_deleted`; the others follow their pattern and are unverified. The event only says
 * that the task changed: a reader reads the task to learn how.
 */
const PATCH_EVENT_TYPES: Readonly<Record<Patchable, string>> = {
  summary: 'task_summary_update',
  description: 'task_desc_update',
  due: 'task_due_update',
  completed_at: 'task_completed_update',
  extra: 'task_extra_update',
  repeat_rule: 'task_repeat_rule_update',
  mode: 'task_mode_update',
};

const PatchBody = z.object({
  task: z
    .object({
      summary: z.string().min(1).max(3000).optional(),
      description: z.string().max(3000).optional(),
      due: Due.optional(),
      completed_at: z.string().regex(/^\d+$/, 'a string of milliseconds').optional(),
      extra: z.string().optional(),
      repeat_rule: z.string().optional(),
      mode: z.number().optional(),
    })
    .optional(),
  update_fields: z.array(z.string()).min(1, 'expected one or more update field'),
});

/** Task-v2 refusals: HTTP status and code as the task-v2 pages list them. */
const taskError = (status: 400 | 403 | 404, code: number, msg: string) => new FeishuError(status, code, msg);
const badTaskParam = (msg: string) => taskError(400, Code.taskBadParam, msg);
const taskGone = () => taskError(404, Code.taskNotFound, 'The task does not exist or has been deleted.');

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw badTaskParam(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}

/** The task's answer shape (`data.task`), as GET, create and patch return it. */
/**
 * A due as Feishu keeps it: to the second (task-v2 overview, "Time format, precision": "1684654215956" comes back as
 * "1684654215000"), and of an all-day due the date part only (the SDKs' Due.is_all_day), here its UTC midnight.
 */
export function storedDue(due: { timestamp: string; is_all_day?: boolean | undefined }): { timestamp: string; is_all_day: boolean } {
  const ms = Number(due.timestamp);
  const kept = due.is_all_day === true ? ms - (ms % DAY_MS) : ms - (ms % 1000);
  return { timestamp: String(kept), is_all_day: due.is_all_day ?? false };
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function taskAnswer(task: EmulatedTask) {
  return {
    guid: task.guid,
    task_id: task.taskId,
    summary: task.summary,
    ...(task.description !== undefined && { description: task.description }),
    ...(task.due && { due: task.due }),
    creator: { id: task.creatorId, type: 'app', role: 'creator' },
    // An app made a member in Feishu Task is listed with its app id (cli_…) and type "app".
    members: task.members.map((m) => ({ id: m.id, type: m.id.startsWith('cli_') ? 'app' : 'user', role: m.role })),
    completed_at: task.completedAt,
    status: task.completedAt === '0' ? 'todo' : 'done',
    ...(task.repeatRule !== undefined && { repeat_rule: task.repeatRule }),
    ...(task.origin && { origin: task.origin }),
    ...(task.extra !== undefined && { extra: task.extra }),
    mode: task.mode,
    source: 6,
    url: task.url,
    created_at: String(task.createdAt),
    updated_at: String(task.updatedAt),
  };
}

function requireWrite(state: EmulatorState): void {
  if (!state.taskScopeGranted) throw scopeMissing(TASK_SCOPES);
}

function liveTask(state: EmulatorState, guid: string | undefined): EmulatedTask {
  const task = guid === undefined ? undefined : state.tasks.get(guid);
  if (!task || task.deleted) throw taskGone();
  // With the app's token, only tasks the app created are visible to it.
  if (task.creatorId !== state.appId) throw taskError(403, Code.taskForbidden, 'No permission to access the task.');
  return task;
}

function limit(state: EmulatorState, call: string): void {
  state.limitApp([perSecond(`task.${call}`, TASK_CALLS_PER_SECOND)]);
}

/** POST /open-apis/task/v2/tasks: the same `client_token` answers with the task it created first. */
export const createTask: Handler = (call, state) => {
  requireWrite(state);
  limit(state, 'create');
  const body = parse(CreateBody, call.body);
  if ((body.reminders?.length ?? 0) > 0 && !body.due) throw badTaskParam('reminders: a reminder needs a due');
  if (body.repeat_rule !== undefined && !body.due) throw badTaskParam('repeat_rule: a repeat rule needs a due');
  const earlier = body.client_token === undefined ? undefined : state.taskByClientToken(body.client_token);
  if (earlier) return ok({ task: taskAnswer(earlier) });
  const guid = randomUUID();
  const task: EmulatedTask = {
    guid,
    taskId: `t${state.tasks.size + 100001}`,
    summary: body.summary,
    description: body.description,
    due: body.due && storedDue(body.due),
    members: (body.members ?? []).map((m) => ({ id: m.id, role: m.role })),
    completedAt: '0',
    repeatRule: body.repeat_rule,
    origin: body.origin,
    extra: body.extra,
    mode: body.mode ?? 2,
    clientToken: body.client_token,
    creatorId: state.appId,
    url: `https://applink.feishu.cn/client/todo/detail?guid=${guid}&suite_entity_num=${guid.slice(0, 8)}`,
    createdAt: state.now(),
    updatedAt: state.now(),
    deleted: false,
    changedBy: state.appId,
  };
  state.addTask(task);
  return ok({ task: taskAnswer(task) });
};

export const getTask: Handler = (call, state) => {
  if (!state.taskScopeGranted) throw scopeMissing(TASK_READ_SCOPES);
  limit(state, 'get');
  return ok({ task: taskAnswer(liveTask(state, call.params.task_guid)) });
};

/**
 * PATCH /open-apis/task/v2/tasks/:task_guid. `completed_at` "0" reopens; a completed task cannot be completed again
 * (the SDK's patch doc). Members, reminders and tasklists are not fields of this call.
 */
export const patchTask: Handler = (call, state) => {
  requireWrite(state);
  limit(state, 'patch');
  const body = parse(PatchBody, call.body);
  const unknown = body.update_fields.find((field) => !(PATCHABLE as readonly string[]).includes(field));
  if (unknown !== undefined) throw badTaskParam(`update_fields include unknown field: ${unknown}`);
  const task = liveTask(state, call.params.task_guid);
  const change = body.task ?? {};
  for (const field of body.update_fields) {
    switch (field) {
      case 'completed_at': {
        const at = change.completed_at ?? '0';
        if (at !== '0' && task.completedAt !== '0') throw badTaskParam('the task is already completed');
        task.completedAt = at;
        break;
      }
      case 'due':
        task.due = change.due && storedDue(change.due);
        break;
      case 'summary':
        if (change.summary === undefined) throw badTaskParam('summary cannot be cleared');
        task.summary = change.summary;
        break;
      case 'description':
        task.description = change.description;
        break;
      case 'extra':
        task.extra = change.extra;
        break;
      case 'repeat_rule':
        task.repeatRule = change.repeat_rule;
        break;
      case 'mode':
        task.mode = change.mode ?? 2;
        break;
    }
  }
  task.updatedAt = state.now();
  task.changedBy = state.appId;
  void state.taskChanged(task, [...new Set(body.update_fields.map((field) => PATCH_EVENT_TYPES[field as Patchable]))]);
  return ok({ task: taskAnswer(task) });
};

export const deleteTask: Handler = (call, state) => {
  requireWrite(state);
  limit(state, 'delete');
  const task = liveTask(state, call.params.task_guid);
  task.deleted = true;
  task.updatedAt = state.now();
  task.changedBy = state.appId;
  void state.taskChanged(task, ['task_deleted']);
  return ok({});
};

/** POST /open-apis/task/v2/task_v2/task_subscription: with the app's identity, events of the tasks it is responsible for. */
export const subscribeTaskEvents: Handler = (_call, state) => {
  if (!state.taskScopeGranted) throw scopeMissing(TASK_READ_SCOPES);
  state.taskEventsSubscribed = true;
  return ok({});
};
