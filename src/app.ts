import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminDirectory } from './bot/admins';
import { Bot } from './bot/bot';
import type { Services } from './bot/services';
import { CommandThrottle } from './bot/throttle';
import type { Config } from './config';
import { FeishuClient } from './feishu/client';
import type { RetryPolicy } from './feishu/transport';
import { Outbox, type OutboxOptions } from './jobs/outbox';
import { Scheduler } from './jobs/scheduler';
import { type Logger, createLogger } from './log';
import { LongConnectionReceiver } from './receivers/long-connection';
import type { Receive, Receiver } from './receivers/receiver';
import { createServer, webhookReceiver } from './receivers/webhook';
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
  /** How pushes arrive: the webhook, or the long connection. */
  receiver: Receiver;
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
  const receive: Receive = (event) => bot.receive(event);
  const receiver: Receiver =
    config.events === 'long-connection'
      ? new LongConnectionReceiver({ appId: config.appId, appSecret: config.appSecret, domain: config.feishuDomain, logger, receive, now })
      : webhookReceiver(now);
  const app = createServer({
    webhook: config.events === 'webhook' ? { encryptKey: config.encryptKey, verificationToken: config.verificationToken } : undefined,
    replayWindowMs: config.replayWindowMs,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    now,
    receive,
    // A receiver that gave up (Feishu refused a reconnect) leaves the bot deaf: let the orchestrator see it.
    isReady: () => ready && receiver.health().state !== 'failed',
    events: () => receiver.health(),
  });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  outbox.start();
  scheduler.start();
  try {
    await receiver.start();
  } catch (error) {
    scheduler.stop();
    await closeServer();
    await outbox.stop();
    await records.close();
    throw error;
  }
  ready = true;
  setImmediate(() => feishu.warmUp());
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info({ url, events: config.events, dataFile: config.dataFile, feishuDomain: config.feishuDomain }, 'to-do bot ready');

  return {
    url,
    server,
    services,
    bot,
    receiver,
    settled: () => outbox.settled(),
    async stop() {
      ready = false;
      scheduler?.stop();
      // Pushes stop first: the long connection closes; the webhook's routes close with the server.
      await receiver.stop();
      await closeServer();
      await outbox.stop();
      await records.close();
      logger.info('to-do bot stopped');
    },
  };
}
