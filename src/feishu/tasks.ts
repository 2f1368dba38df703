import type * as lark from '@larksuiteoapi/node-sdk';
import { FeishuApiError } from './errors';
import type { Transport } from './transport';

/**
 * Feishu Task v2, as the bot calls it with the app's identity (shapes from the SDK's generated client,
 * code-gen/projects/task.ts): create a task for a to-do, read it back, complete, reopen or move its due, delete it,
 * and subscribe to the events of the tasks the app created. Times cross the edge as millisecond STRINGS: Feishu
 * reads seconds as milliseconds (a date in 1970) without complaint.
 */

/** A task as the bot knows it: what the group's to-do card follows. */
export interface FeishuTask {
  guid: string;
  /** An applink that opens the task in Feishu. */
  url: string;
  /** When it was completed (ms); undefined while open. */
  completedAt?: number;
  assigneeIds: string[];
  /** The due (ms); undefined when the task has none. */
  dueAt?: number;
  /** The due is a date, set as all-day: Feishu keeps only the date part of `dueAt`. */
  dueAllDay?: true;
  /** The `extra` the bot wrote at create: the to-do's id. */
  extra?: string;
}

export interface NewFeishuTask {
  summary: string;
  assigneeIds: string[];
  followerIds: string[];
  /** The reminder time (ms), when there is one. */
  dueAt?: number | undefined;
  /** The same token on every try makes Feishu answer with the task the first try created. */
  clientToken: string;
  /** Names the bot in each language, with a link back to the group. */
  origin: { name: { zh_cn: string; en_us: string }; url: string; title: string };
  extra: string;
}

/** Code 1470404: the task was deleted (or never existed). */
export const TASK_GONE = 1470404;
/** Code 1470400 is also what completing an already completed task answers. */
const TASK_REFUSED = 1470400;

type RawTask = {
  guid?: string | undefined;
  url?: string | undefined;
  completed_at?: string | undefined;
  due?: { timestamp?: string | undefined; is_all_day?: boolean | undefined } | undefined;
  members?: Array<{ id?: string | undefined; type?: string | undefined; role?: string | undefined }> | undefined;
  extra?: string | undefined;
};

function toTask(method: string, raw: RawTask | undefined): FeishuTask {
  if (!raw?.guid) throw new FeishuApiError(method, -1, 'answer carried no task guid', 200);
  const completedAt = Number(raw.completed_at ?? '0');
  const dueAt = Number(raw.due?.timestamp ?? '0');
  return {
    guid: raw.guid,
    url: raw.url ?? '',
    ...(completedAt > 0 && { completedAt }),
    // A task's members may be apps as well as people; a to-do is assigned to people only.
    assigneeIds: (raw.members ?? []).filter((m) => m.role === 'assignee' && (m.type ?? 'user') === 'user' && m.id).map((m) => m.id as string),
    ...(dueAt > 0 && { dueAt }),
    ...(dueAt > 0 && raw.due?.is_all_day === true && { dueAllDay: true as const }),
    ...(raw.extra !== undefined && { extra: raw.extra }),
  };
}

const PARAMS = { user_id_type: 'open_id' } as const;

export class FeishuTasks {
  constructor(
    private readonly sdk: () => lark.Client,
    private readonly transport: Transport,
  ) {}

  async create(task: NewFeishuTask): Promise<FeishuTask> {
    const members = [
      ...task.assigneeIds.map((id) => ({ id, type: 'user', role: 'assignee' })),
      ...task.followerIds.filter((id) => !task.assigneeIds.includes(id)).map((id) => ({ id, type: 'user', role: 'follower' })),
    ];
    const answer = await this.transport.call({
      name: 'task.v2.task.create',
      limit: { method: 'task.create', keys: {} },
      run: () =>
        this.sdk().task.v2.task.create({
          params: PARAMS,
          data: {
            summary: task.summary,
            members,
            client_token: task.clientToken,
            origin: { platform_i18n_name: task.origin.name, href: { url: task.origin.url, title: task.origin.title } },
            extra: task.extra,
            ...(task.dueAt !== undefined && { due: { timestamp: String(task.dueAt), is_all_day: false } }),
          },
        }),
    });
    return toTask('task.v2.task.create', answer.data?.task);
  }

  /** The task as it is now; undefined when it was deleted. */
  async get(guid: string): Promise<FeishuTask | undefined> {
    try {
      const answer = await this.transport.call({
        name: 'task.v2.task.get',
        limit: { method: 'task.get', keys: {} },
        run: () => this.sdk().task.v2.task.get({ params: PARAMS, path: { task_guid: guid } }),
      });
      return toTask('task.v2.task.get', answer.data?.task);
    } catch (error) {
      if (error instanceof FeishuApiError && error.feishuCode === TASK_GONE) return undefined;
      throw error;
    }
  }

  /**
   * Completes the task at `at`, or reopens it (`at` undefined). A task already in that state is success: Feishu
   * refuses completing a completed task, so a refusal is checked against the task itself. Resolves `false` when the
   * task was deleted.
   */
  async setCompleted(guid: string, at: number | undefined): Promise<boolean> {
    try {
      await this.patch(guid, { completed_at: at === undefined ? '0' : String(at) }, ['completed_at']);
      return true;
    } catch (error) {
      if (error instanceof FeishuApiError && error.feishuCode === TASK_GONE) return false;
      if (error instanceof FeishuApiError && error.feishuCode === TASK_REFUSED && at !== undefined) {
        const now = await this.get(guid);
        if (!now) return false;
        if (now.completedAt !== undefined) return true;
      }
      throw error;
    }
  }

  /** Moves the task's due (clears it when `dueAt` is undefined). Resolves `false` when the task was deleted. */
  async setDue(guid: string, dueAt: number | undefined): Promise<boolean> {
    try {
      await this.patch(guid, dueAt === undefined ? {} : { due: { timestamp: String(dueAt), is_all_day: false } }, ['due']);
      return true;
    } catch (error) {
      if (error instanceof FeishuApiError && error.feishuCode === TASK_GONE) return false;
      throw error;
    }
  }

  /** Resolves `true` when this call deleted the task, `false` when it was already gone. */
  async delete(guid: string): Promise<boolean> {
    try {
      await this.transport.call({
        name: 'task.v2.task.delete',
        limit: { method: 'task.delete', keys: {} },
        run: () => this.sdk().task.v2.task.delete({ path: { task_guid: guid } }),
      });
      return true;
    } catch (error) {
      if (error instanceof FeishuApiError && error.feishuCode === TASK_GONE) return false;
      throw error;
    }
  }

  /** Subscribes the app to the change events of the tasks it is responsible for. Tried once: the caller logs a refusal. */
  async subscribe(): Promise<void> {
    await this.transport.call({
      name: 'task.v2.task_v2.task_subscription',
      attempts: 1,
      run: () => this.sdk().task.v2.taskV2.taskSubscription({ params: PARAMS }),
    });
  }

  private patch(guid: string, task: Record<string, unknown>, fields: string[]) {
    return this.transport.call({
      name: 'task.v2.task.patch',
      limit: { method: 'task.patch', keys: {} },
      run: () => this.sdk().task.v2.task.patch({ params: PARAMS, path: { task_guid: guid }, data: { task, update_fields: fields } }),
    });
  }
}
