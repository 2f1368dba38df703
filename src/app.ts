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
import { LongConnectionReceiver } from './receivers/long-connection';
import type { Receive, Receiver } from './receivers/receiver';
import { createServer, listen, webhookReceiver } from './receivers/webhook';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createStore } from './store';
import type { Store } from './store/store';

/** Wires the parts together and starts them; `main.ts` adds only the process around it. */

export interface AppOptions {
  logger?: Logger;
  now?: () => number;
  /** The store to use instead of the one the configuration names (not yet opened). */
  store?: Store;
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
  /** Makes the scheduler and the outbox look for due work now (after a test or the demo moved the clock). */
  wake(): void;
  stop(): Promise<void>;
}

const HOUSEKEEPING_INTERVAL_MS = 60 * 60 * 1000;

export async function startApp(config: Config, options: AppOptions = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const now = options.now ?? Date.now;
  const store = options.store ?? createStore(config);
  await store.open();
  const feishu = new FeishuClient({
    appId: config.appId,
    appSecret: config.appSecret,
    domain: config.feishuDomain,
    timeoutMs: config.feishuTimeoutMs,
    logger,
    retry: options.feishuRetry,
  });

  let botOpenId: Promise<string> | undefined;
  let knownBotOpenId: string | undefined;
  const services: Services = {
    config,
    store,
    feishu,
    logger: logger.child({ module: 'bot' }),
    now,
    admins: new AdminDirectory((chatId) => feishu.chatAdmins(chatId), config.adminCacheMs, now),
    profileZones: new ProfileZones({ lookup: (userId) => feishu.userTimeZone(userId), now, logger: logger.child({ module: 'profile-zones' }) }),
    throttle: new CommandThrottle(config.userCommandLimit, config.userCommandWindowSeconds),
    botOpenId: () => {
      botOpenId ??= feishu.botOpenId().then(
        (id) => (knownBotOpenId = id),
        (error: unknown) => {
          botOpenId = undefined;
          throw error;
        },
      );
      return botOpenId;
    },
    knownBotOpenId: () => knownBotOpenId,
  };
  const bot = new Bot(services);
  // Names this instance in the leases it takes, for the logs and for an operator reading the jobs table.
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const outbox = new Outbox({ store, handlers: bot.jobHandlers(), logger, now, owner, retryDelaysMs: options.jobRetryDelaysMs, ...options.outbox });

  let lastHousekeeping = now();
  const scheduler = new Scheduler({
    now,
    store,
    tasks: [
      ...bot.scheduledTasks(),
      {
        name: 'housekeeping',
        nextDue: async () => lastHousekeeping + HOUSEKEEPING_INTERVAL_MS,
        run: async (at) => {
          lastHousekeeping = at;
          const removed = await store.prune(at);
          feishu.sweepLimits();
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
  const server = listen(app, { port: config.port, host: config.host, maxConnections: config.maxConnections });
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
    await scheduler.stop();
    await closeServer();
    await outbox.stop();
    await store.close();
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
    async settled() {
      await bot.settled();
      await outbox.settled();
    },
    wake() {
      scheduler.poke();
      outbox.kick();
    },
    async stop() {
      ready = false;
      await scheduler.stop();
      // Pushes stop first: the long connection closes; the webhook's routes close with the server.
      await receiver.stop();
      await closeServer();
      await bot.settled();
      await outbox.stop();
      await store.close();
      logger.info('to-do bot stopped');
    },
  };
}
