import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import pTimeout from 'p-timeout';
import { AdminDirectory } from './bot/admins';
import { Bot, CARD_ANSWER_DEADLINE_MS } from './bot/bot';
import { BotIdentity } from './bot/bot-identity';
import { ProfileZones } from './bot/profile-zones';
import type { Services } from './bot/services';
import { TaskSyncStatus, subscribeTaskEvents } from './bot/task-sync';
import { ClickThrottle } from './bot/throttle';
import { BUILD_INFO } from './build-info';
import type { Config } from './config';
import { FeishuClient } from './feishu/client';
import { FeishuCheck } from './feishu/credentials-check';
import { isTransient } from './feishu/errors';
import { FleetRateLimiter } from './feishu/fleet-rate-limiter';
import type { RetryPolicy } from './feishu/transport';
import { type HealthSource, healthReport } from './health';
import { housekeepingTask } from './jobs/housekeeping';
import { Outbox, type OutboxOptions } from './jobs/outbox';
import { Scheduler } from './jobs/scheduler';
import { type Logger, createLogger } from './log';
import { Metrics } from './metrics';
import { LongConnectionReceiver } from './receivers/long-connection';
import type { Receive, Receiver } from './receivers/receiver';
import { createServer, listen, webhookReceiver } from './receivers/webhook';
import { createStore, describeStore } from './store';
import { storeFailure } from './store/failure';
import { sharedStats, storeHealth } from './store/health';
import type { Store } from './store/store';

/** Wires the parts together and starts them; `main.ts` adds only the process around it. */

export interface AppOptions {
  logger?: Logger;
  now?: () => number;
  /** The store to use instead of the one the configuration names (not yet opened). */
  store?: Store;
  feishuRetry?: Partial<RetryPolicy>;
  /** How a Feishu call waits before its next attempt (default: a timer). */
  feishuRetryWait?: (ms: number) => Promise<void>;
  jobRetryDelaysMs?: readonly number[];
  /** How many jobs run at once, in all and per chat (defaults in the outbox). */
  outbox?: Pick<OutboxOptions, 'concurrency' | 'perChat'>;
  /** How long a stop lets running work finish before cancelling it (see STOP_GRACE_MS). */
  stopGraceMs?: { http: number; jobs: number };
}

export interface RunningApp {
  url: string;
  server: Server;
  store: Store;
  services: Services;
  bot: Bot;
  metrics: Metrics;
  /** How pushes arrive: the webhook, or the long connection. */
  receiver: Receiver;
  /** Resolves when no outbound work is running or due (for tests and the demo). */
  settled(): Promise<void>;
  /** Makes the scheduler and the outbox look for due work now (after a test or the demo moved the clock). */
  wake(): void;
  /** Stops within the grace (see below); a second call waits for the first stop rather than starting another. */
  stop(): Promise<void>;
}

/**
 * A stop is bounded, whatever Feishu is doing: pushes being answered get `http` ms, then their connections are
 * closed; running jobs get `jobs` ms to finish the call they are in (waits and retries end at once), then their
 * requests are cancelled and the jobs stay stored as pending. With the log folded after it, a stop takes well under
 * the 10 s a supervisor gives (Docker's and systemd's default grace before SIGKILL).
 */
const STOP_GRACE_MS = { http: 2_000, jobs: 3_000 };
/** After cancelling, the jobs' own clean-up (storing where they stopped) gets this long. */
const CANCEL_SETTLE_MS = 1_000;

export async function startApp(config: Config, options: AppOptions = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const now = options.now ?? Date.now;
  const store = options.store ?? (await createStore(config, { logger }));
  await store.open();
  // A store the fleet shares counts Feishu's limits and the people's throttles for all its instances.
  const shared = store.sharedLimits;
  // Filled in below; the metrics and /healthz read them only when asked.
  let outbox: Outbox | undefined;
  let receiver: Receiver | undefined;
  const healthSources: HealthSource[] = [];
  const stats = sharedStats(store);
  const metrics = new Metrics({
    storeStats: () => stats.stats(),
    storePool: () => store.poolUsage?.(),
    build: BUILD_INFO,
    jobsRunning: () => outbox?.running ?? 0,
    health: () => healthSources,
    events: () => receiver?.health(),
  });
  // What no person watches (the outbox, the jobs, the scheduled tasks) after the clicks, where the store has a pool:
  // a click never queues behind it.
  const background = store.background?.() ?? store;
  // Every commit is timed for the metrics, whichever part of the bot makes it.
  for (const timed of new Set([store, background])) {
    const commit = timed.commit.bind(timed);
    timed.commit = async (change) => {
      const started = performance.now();
      try {
        return await commit(change);
      } finally {
        metrics.storeCommit((performance.now() - started) / 1000);
      }
    };
  }
  const feishu = new FeishuClient({
    appId: config.appId,
    appSecret: config.appSecret,
    domain: config.feishuDomain,
    timeoutMs: config.feishuTimeoutMs,
    logger,
    retry: options.feishuRetry,
    retryWait: options.feishuRetryWait,
    observer: metrics.feishu,
    limiter: shared && ((maxWaitMs) => new FleetRateLimiter(shared, maxWaitMs)),
  });

  const identity = new BotIdentity(() => feishu.botInfo());
  const services: Services = {
    config,
    store,
    feishu,
    logger: logger.child({ module: 'bot' }),
    now,
    admins: new AdminDirectory((chatId) => feishu.chatAdmins(chatId), config.adminCacheMs, now),
    profileZones: new ProfileZones({ lookup: (userId) => feishu.userTimeZone(userId), now, logger: logger.child({ module: 'profile-zones' }) }),
    clicks: new ClickThrottle(config.userCommandLimit, config.userCommandWindowSeconds, shared && ((options) => shared.throttleLimiter(options))),
    botOpenId: () => identity.openId(),
    knownBotOpenId: () => identity.knownOpenId(),
    taskSync: new TaskSyncStatus(),
    metrics,
  };
  const bot = new Bot(services);
  const backgroundServices: Services = { ...services, store: background };
  // Names this instance in the leases it takes, for the logs and for an operator reading the jobs table.
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  outbox = new Outbox({
    store: background,
    registry: bot.jobRegistry(backgroundServices),
    // A store that failed to answer (a database restarting, a statement timed out) is tried again like Feishu's
    // transient failures: giving up would lose a reminder, or call a card that was posted "not posted".
    isTransient: (error) => isTransient(error) || storeFailure(error) !== 'failed',
    logger,
    now,
    owner,
    retryDelaysMs: options.jobRetryDelaysMs,
    leaseMs: config.jobLeaseMs,
    pollMs: config.jobPollMs,
    onAbandoned: (job) => metrics.jobAbandoned(job.kind),
    onRenewal: (observation) => metrics.leaseRenewal(observation),
    onLeaseLost: (job) => metrics.leaseLost(job.kind),
    ...options.outbox,
  });
  const feishuCheck = new FeishuCheck(feishu, logger.child({ module: 'feishu.check' }), (info) => identity.learn(info.openId));

  const scheduler = new Scheduler({
    now,
    store: background,
    tasks: [...bot.scheduledTasks(backgroundServices), housekeepingTask({ store: background, sweepLimits: () => feishu.sweepLimits(), logger, now })],
    onError: (task, error, failures) => logger.error({ task, failures, err: error }, 'scheduled task failed'),
    onRecovered: (task, failures) => logger.info({ task, failures }, 'scheduled task works again'),
  });

  const receive: Receive = (event) => bot.receive(event);
  const events: Receiver =
    config.events === 'long-connection'
      ? new LongConnectionReceiver({
          appId: config.appId,
          appSecret: config.appSecret,
          domain: config.feishuDomain,
          logger,
          receive,
          now,
          pushLimitBytes: config.bodyLimitBytes,
          budgetBytes: config.bodyBudgetBytes,
          clickAnswerMs: CARD_ANSWER_DEADLINE_MS,
        })
      : webhookReceiver(now);
  receiver = events;
  healthSources.push(
    storeHealth(stats, now, { kind: config.databaseUrl === undefined ? 'file' : 'postgresql', logger }),
    feishuCheck,
    { name: 'taskSync', health: () => services.taskSync.health() },
    // A receiver that gave up (Feishu refused a reconnect) leaves the bot deaf: let the orchestrator see it.
    { name: 'events', health: () => ({ ok: events.health().state !== 'failed', ...events.health() }) },
  );

  let phase: 'starting' | 'ready' | 'stopping' = 'starting';
  const handler = createServer({
    webhook: config.events === 'webhook' ? { encryptKey: config.encryptKey, verificationToken: config.verificationToken } : undefined,
    replayWindowMs: config.replayWindowMs,
    bodyLimitBytes: config.bodyLimitBytes,
    bodyBudgetBytes: config.bodyBudgetBytes,
    logger,
    now,
    receive,
    health: () => healthReport(phase, healthSources),
    metrics: () => metrics.render(),
    observePush: (route, outcome, seconds) => metrics.push(route, outcome, seconds),
  });
  const server = listen(handler, {
    port: config.port,
    host: config.host,
    maxConnections: config.maxConnections,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    await feishuCheck.atStart();
    // With sync on for every group, the events are wanted from the start (a group that turns it on alone subscribes
    // with its first task).
    if (config.groupDefaults.taskSync === 'on') await subscribeTaskEvents(services);
  } catch (error) {
    server.close();
    await store.close();
    throw error;
  }
  outbox.start();
  scheduler.start();
  try {
    await events.start();
  } catch (error) {
    await scheduler.stop();
    feishuCheck.stop();
    await closeServer();
    await outbox.stop();
    await store.close();
    throw error;
  }
  phase = 'ready';
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info(
    {
      url,
      events: config.events,
      store: describeStore(config),
      feishuDomain: config.feishuDomain,
      feishu: feishuCheck.health().reachable ? 'reached' : 'not reached yet',
      defaultTimeZone: config.defaultTimeZone,
    },
    'to-do bot ready',
  );

  const running = outbox;
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    phase = 'stopping';
    const grace = options.stopGraceMs ?? STOP_GRACE_MS;
    await scheduler.stop();
    feishuCheck.stop();
    // Pushes stop first: the long connection closes; the webhook's routes close with the server below.
    await events.stop();
    // Waits and retries end now; calls on the wire may finish (their results are stored as steps).
    feishu.stopWaiting();
    const jobs = running.stop();
    if (!(await within(closeServer(), grace.http))) server.closeAllConnections();
    await bot.settled();
    if (!(await within(jobs, grace.jobs))) {
      feishu.abortRequests();
      if (!(await within(jobs, CANCEL_SETTLE_MS))) logger.warn('some jobs did not stop in time; they stay stored and resume at the next start');
    }
    await store.close();
    logger.info('to-do bot stopped');
  };
  return {
    url,
    server,
    store,
    services,
    bot,
    metrics,
    receiver: events,
    async settled() {
      await scheduler.settled();
      await bot.settled();
      await running.settled();
    },
    wake() {
      scheduler.poke();
      running.kick();
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

/** Whether `work` settled within `ms`. */
function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  return pTimeout(
    work.then(() => true),
    { milliseconds: ms, fallback: () => false },
  );
}
