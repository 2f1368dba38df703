import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminDirectory } from './bot/admins';
import { Bot } from './bot/bot';
import { ProfileZones } from './bot/profile-zones';
import type { Services } from './bot/services';
import { CommandThrottle } from './bot/throttle';
import type { Config } from './config';
import { FeishuClient } from './feishu/client';
import type { RetryPolicy } from './feishu/transport';
import { Outbox, type OutboxOptions } from './jobs/outbox';
import { Scheduler } from './jobs/scheduler';
import { type Logger, createLogger } from './log';
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
}

export interface RunningApp {
  url: string;
  server: Server;
  services: Services;
  bot: Bot;
  /** Resolves when no outbound work is running or due (for tests and the demo). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const HOUSEKEEPING_INTERVAL_MS = 60 * 60 * 1000;

export async function startApp(config: Config, options: AppOptions = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const now = options.now ?? Date.now;
  const records = new RecordStore(options.persistence ?? new FilePersistence(config.dataFile, config.storeFsyncMs));
  await records.open();
  const store = new StateStore(records);
  const feishu = new FeishuClient({
    appId: config.appId,
    appSecret: config.appSecret,
    domain: config.feishuDomain,
    timeoutMs: config.feishuTimeoutMs,
    logger,
    retry: options.feishuRetry,
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
    profileZones: new ProfileZones({ lookup: (userId) => feishu.userTimeZone(userId), now, logger: logger.child({ module: 'profile-zones' }) }),
    throttle: new CommandThrottle(config.userCommandLimit, config.userCommandWindowSeconds),
    outbox: undefined as unknown as Outbox,
    botOpenId: () => {
      botOpenId ??= feishu.botOpenId().catch((error: unknown) => {
        botOpenId = undefined;
        throw error;
      });
      return botOpenId;
    },
    poke: () => scheduler?.poke(),
  };
  const bot = new Bot(services);
  const outbox = new Outbox({ store, handlers: bot.jobHandlers(), logger, now, retryDelaysMs: options.jobRetryDelaysMs, ...options.outbox });
  services.outbox = outbox;

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

  let ready = false;
  const app = createServer({
    encryptKey: config.encryptKey,
    verificationToken: config.verificationToken,
    replayWindowMs: config.replayWindowMs,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    now,
    receive: (event) => bot.receive(event),
    isReady: () => ready,
  });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  outbox.start();
  scheduler.start();
  ready = true;
  setImmediate(() => feishu.warmUp());
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info({ url, dataFile: config.dataFile, feishuDomain: config.feishuDomain }, 'to-do bot ready');

  return {
    url,
    server,
    services,
    bot,
    settled: () => outbox.settled(),
    async stop() {
      ready = false;
      scheduler?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await outbox.stop();
      await records.close();
      logger.info('to-do bot stopped');
    },
  };
}
