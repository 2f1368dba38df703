import type { FeishuClient } from '../feishu/client';
import type { ComponentHealth } from '../health';
import type { Logger } from '../log';

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
  /** The last subscription attempt in this process: true once Feishu accepted it. */
  private subscription: Promise<boolean> | undefined;
  private subscriptionRefusalLogged = false;

  /** Runs `subscribe` the first time it is asked, in this process; later calls wait for that attempt. */
  subscribeOnce(subscribe: () => Promise<boolean>): Promise<boolean> {
    this.subscription ??= subscribe();
    return this.subscription;
  }

  /**
   * Runs `subscribe` again when this process asked before and was refused (an attempt in flight is waited for, not
   * doubled); does nothing when it never asked or was accepted.
   */
  async subscribeAgainIfRefused(subscribe: () => Promise<boolean>): Promise<void> {
    const last = this.subscription;
    if (last === undefined || (await last)) return;
    if (this.subscription === last) this.subscription = subscribe();
    await this.subscription;
  }

  /** True the first time a subscription is refused, so the refusal is logged once however often it is retried. */
  firstSubscriptionRefusal(): boolean {
    const first = !this.subscriptionRefusalLogged;
    this.subscriptionRefusalLogged = true;
    return first;
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
 * The services subscribing uses, named here rather than taken as `Services`: that holds this module's status, so
 * importing it would tie the two modules in a circle.
 */
interface SubscriptionServices {
  feishu: FeishuClient;
  logger: Logger;
  taskSync: TaskSyncStatus;
}

/**
 * Subscribes the app to its tasks' events, once per process: at start when every group syncs, else with the first
 * task made. A refusal (no scope yet, Feishu unreachable) never stops the bot or a job: the sweep carries on alone and
 * tries the subscription again each time it comes by (`subscribeTaskEventsAgain`), so a scope granted later brings
 * the events without a restart.
 */
export async function subscribeTaskEvents(services: SubscriptionServices): Promise<void> {
  await services.taskSync.subscribeOnce(() => attemptSubscription(services));
}

/** Tries the subscription again if this process was refused it; nothing otherwise. */
export function subscribeTaskEventsAgain(services: SubscriptionServices): Promise<void> {
  return services.taskSync.subscribeAgainIfRefused(() => attemptSubscription(services));
}

/** One subscription call; a refusal is logged as a warning the first time only, and answered false. */
async function attemptSubscription(services: SubscriptionServices): Promise<boolean> {
  try {
    await services.feishu.tasks.subscribe();
    services.logger.info('subscribed to Feishu Task events');
    return true;
  } catch (error) {
    const level = services.taskSync.firstSubscriptionRefusal() ? 'warn' : 'debug';
    services.logger[level](
      { err: (error as Error).message },
      'could not subscribe to Feishu Task events; relying on the reconcile sweep, which tries the subscription again',
    );
    return false;
  }
}
