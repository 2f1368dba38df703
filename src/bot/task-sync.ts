import type { ComponentHealth } from '../health';
import type { Services } from './services';

/**
 * Whether Feishu Task lets the app sync, and the app's subscription to its tasks' events: the state of task sync in
 * this process (the jobs that sync are in jobs/task.ts).
 */

/** The scopes to grant, as the admin is told and the README lists them. */
export const TASK_SCOPES = 'task:task:write, task:task:read';

/** Whether task sync works, for /healthz and the metrics: refused from the first refusal until a call succeeds. */
export class TaskSyncStatus {
  private refusedAt: number | undefined;
  private lastCode: number | undefined;
  private subscription: Promise<void> | undefined;

  /** Runs `subscribe` the first time it is asked, in this process; later calls wait for that one. */
  subscribeOnce(subscribe: () => Promise<void>): Promise<void> {
    this.subscription ??= subscribe();
    return this.subscription;
  }

  refused(code: number, at: number): void {
    this.refusedAt ??= at;
    this.lastCode = code;
  }

  working(): void {
    this.refusedAt = undefined;
    this.lastCode = undefined;
  }

  get isRefused(): boolean {
    return this.refusedAt !== undefined;
  }

  /** Never `ok: false`: a missing scope stops task sync, not the bot (a restart would not help). */
  health(): ComponentHealth {
    return this.refusedAt === undefined
      ? { ok: true, refused: false }
      : { ok: true, refused: true, since: new Date(this.refusedAt).toISOString(), code: this.lastCode, grant: TASK_SCOPES };
  }
}

/**
 * Subscribes the app to its tasks' events, once per process: at start when every group syncs, else with the first
 * task made. A refusal (no scope yet, Feishu unreachable) is logged once and the sweep carries on alone; it never
 * stops the bot or a job.
 */
export function subscribeTaskEvents(services: Services): Promise<void> {
  return services.taskSync.subscribeOnce(async () => {
    try {
      await services.feishu.tasks.subscribe();
      services.logger.info('subscribed to Feishu Task events');
    } catch (error) {
      services.logger.warn({ err: (error as Error).message }, 'could not subscribe to Feishu Task events; relying on the reconcile sweep');
    }
  });
}

