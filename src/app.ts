import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminDirectory } from './bot/admins';
import { Bot } from './bot/bot';
import type { Services } from './bot/services';
import { CommandThrottle } from './bot/throttle';
import type { Config } from './config';
import { FeishuClient } from './feishu/client';
import { FeishuCheck } from './feishu/credentials-check';
import type { RetryPolicy } from './feishu/transport';
import { type HealthSource, healthReport } from './health';
import { Outbox, type OutboxOptions } from './jobs/outbox';
import { Scheduler } from './jobs/scheduler';
import { type Logger, createLogger } from './log';
import { Metrics } from './metrics';
import { createServer } from './receivers/webhook';
import { FilePersistence } from './store/lowdb';
import type { Persistence } from './store/persistence';
import { RecordStore } from './store/records';
import { StateStore } from './store/store';

/** Wires the parts together and starts them; `main.ts` adds only the process around it. */

export interface AppOptions {
  logger?: Logger;
  now?: () => number;
  persistence?: Persistence;
  feishuRetry?: Partial<RetryPolicy>;
  jobRetryDelaysMs?: readonly number[];
  /** How many jobs run at once, in all and per chat (defaults in the outbox). */
  outbox?: Pick<OutboxOptions, 'concurrency' | 'perChat'>;
  /** How long a stop lets running work finish before cancelling it (see STOP_GRACE_MS). */
  stopGraceMs?: { http: number; jobs: number };
}

export interface RunningApp {
  url: string;
  server: Server;
  services: Services;
  bot: Bot;
  metrics: Metrics;
  /** Resolves when no outbound work is running or due (for tests and the demo). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const HOUSEKEEPING_INTERVAL_MS = 60 * 60 * 1000;

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
  const records = new RecordStore(options.persistence ?? new FilePersistence(config.dataFile, config.storeFsyncMs));
  await records.open();
  const store = new StateStore(records);
  // Filled in below; the metrics read them only when scraped.
  let outbox: Outbox | undefined;
  const healthSources: HealthSource[] = [];
  const metrics = new Metrics({
    storeStats: () => store.stats(now()),
    jobsRunning: () => outbox?.running ?? 0,
    health: () => healthSources,
  });
  const feishu = new FeishuClient({
    appId: config.appId,
    appSecret: config.appSecret,
    domain: config.feishuDomain,
    timeoutMs: config.feishuTimeoutMs,
    logger,
    retry: options.feishuRetry,
    observer: metrics.feishu,
  });

  let botOpenId: Promise<string> | undefined;
  let scheduler: Scheduler | undefined;
  const services: Services = {
    config,
    store,
    feishu,
    logger: logger.child({ module: 'bot' }),
    now,
    admins: new AdminDirectory((chatId) => feishu.chatAdmins(chatId), config.adminCacheMs, now),
    throttle: new CommandThrottle(config.userCommandLimit, config.userCommandWindowSeconds),
    outbox: undefined as unknown as Outbox,
    // Known from the start-up check; looked up here only when Feishu was unreachable then.
    botOpenId: () => {
      botOpenId ??= feishu
        .botInfo()
        .then((info) => info.openId)
        .catch((error: unknown) => {
          botOpenId = undefined;
          throw error;
        });
      return botOpenId;
    },
    poke: () => scheduler?.poke(),
    metrics,
  };
  const bot = new Bot(services);
  outbox = new Outbox({
    store,
    handlers: bot.jobHandlers(),
    logger,
    now,
    retryDelaysMs: options.jobRetryDelaysMs,
    onAbandoned: (job) => metrics.jobAbandoned(job.kind),
    ...options.outbox,
  });
  services.outbox = outbox;
  const feishuCheck = new FeishuCheck(feishu, logger.child({ module: 'feishu.check' }), (info) => {
    botOpenId = Promise.resolve(info.openId);
  });
  healthSources.push(
    {
      name: 'store',
      health: () => {
        const stats = store.stats(now());
        return {
          ok: records.writable,
          writable: records.writable,
          pendingJobs: stats.jobsPending,
          oldestPendingJobAgeSeconds: Math.round(stats.oldestPendingJobAgeMs / 1000),
        };
      },
    },
    feishuCheck,
  );

  let lastHousekeeping = now();
  scheduler = new Scheduler({
    now,
    tasks: [
      ...bot.scheduledTasks(),
      {
        name: 'housekeeping',
        nextDue: () => lastHousekeeping + HOUSEKEEPING_INTERVAL_MS,
        run: async (at) => {
          lastHousekeeping = at;
          const removed = store.prune(at);
          feishu.sweepLimits();
          await store.flush();
          logger.info({ removed }, 'housekeeping done');
        },
      },
    ],
    onError: (task, error) => logger.error({ task, err: (error as Error).message }, 'scheduled task failed'),
  });

  let phase: 'starting' | 'ready' | 'stopping' = 'starting';
  const app = createServer({
    encryptKey: config.encryptKey,
    verificationToken: config.verificationToken,
    replayWindowMs: config.replayWindowMs,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    now,
    receive: (event) => bot.receive(event),
    health: () => healthReport(phase, healthSources),
    metrics: () => metrics.render(),
    observePush: (route, outcome, seconds) => metrics.push(route, outcome, seconds),
  });
  const server = app.listen(config.port, config.host);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    await feishuCheck.atStart();
  } catch (error) {
    server.close();
    await records.close();
    throw error;
  }
  outbox.start();
  scheduler.start();
  phase = 'ready';
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info({ url, dataFile: config.dataFile, feishuDomain: config.feishuDomain }, 'to-do bot ready');

  return {
    url,
    server,
    services,
    bot,
    metrics,
    settled: () => (outbox as Outbox).settled(),
    async stop() {
      phase = 'stopping';
      const grace = options.stopGraceMs ?? STOP_GRACE_MS;
      scheduler?.stop();
      feishuCheck.stop();
      // Waits and retries end now; calls on the wire may finish (their results are stored as steps).
      feishu.stopWaiting();
      const jobs = (outbox as Outbox).stop();
      const pushes = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      if (!(await within(pushes, grace.http))) server.closeAllConnections();
      if (!(await within(jobs, grace.jobs))) {
        feishu.abortRequests();
        if (!(await within(jobs, CANCEL_SETTLE_MS))) logger.warn('some jobs did not stop in time; they stay stored and resume at the next start');
      }
      await records.close();
      logger.info('to-do bot stopped');
    },
  };
}

/** Whether `work` settled within `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
