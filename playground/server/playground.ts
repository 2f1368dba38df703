import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../emulator';
import { type RunningApp, startApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { botEnv } from '../../test/bot-env';
import { bundlePage } from './bundle';
import { PlaygroundClock } from './clock';
import { FeishuClients } from './feishu-clients';
import { groupChats } from './squad';
import { createWebServer } from './web';

/**
 * The emulator, the real bot and the page's server, in one process, sharing one clock. The bot keeps its data in a
 * temporary folder that `stop()` removes; its secrets are made up for the run, so nothing needs credentials.
 */

export interface Playground {
  /** The page's address. */
  url: string;
  emu: Emulator;
  app: RunningApp;
  clock: PlaygroundClock;
  stop(): Promise<void>;
}

export interface PlaygroundOptions {
  /** The page's port; 0 (the default) takes a free one. */
  port?: number;
  /** The bot's log level; its JSON lines go to stdout. Default `error`: the page shows what happens. */
  logLevel?: string;
  /** Where the shared clock starts (ms since the epoch); the real time by default. */
  startAt?: number;
}

/** How long catching up after a clock move may take before the page is answered anyway. */
const CATCH_UP_LIMIT_MS = 10_000;

export async function startPlayground(options: PlaygroundOptions = {}): Promise<Playground> {
  const secret = () => randomBytes(12).toString('hex');
  const secrets = { appId: 'cli_playground', appSecret: secret(), verificationToken: secret(), encryptKey: secret() };
  const clock = new PlaygroundClock(options.startAt);
  const bundle = await bundlePage();
  // What is started is stopped in reverse order, also when a later part fails to start.
  const started: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop();
  };
  try {
    const emu = await startEmulator({ appId: secrets.appId, appSecret: secrets.appSecret, chats: groupChats(), now: clock.now });
    started.push(() => emu.close());
    const dir = await mkdtemp(join(tmpdir(), 'todo-playground-'));
    started.push(() => rm(dir, { recursive: true, force: true }));
    const logLevel = options.logLevel ?? 'error';
    // Task sync on, so each person's Feishu Task list shows beside their feed cards; a 09:00 digest and nudges after
    // two hours, so that moving the clock shows them.
    const config = loadConfig(
      botEnv({
        feishuDomain: emu.url,
        dataFile: join(dir, 'db.json'),
        logLevel,
        secrets,
        extra: { TASK_SYNC: 'on', DIGEST_TIME: '09:00', OVERDUE_NUDGE_HOURS: '2' },
      }),
    );
    const app = await startApp(config, { logger: createLogger(logLevel), now: clock.now });
    started.push(() => app.stop());
    // The console's event subscription: Feishu pushes task events to the bot's event route, signed on the shared clock.
    emu.setEventSubscription({
      url: `${app.url}/webhook/event`,
      verificationToken: secrets.verificationToken,
      encryptKey: secrets.encryptKey,
      clock: clock.now,
    });

    const clients = new FeishuClients(emu, () => app.url, secrets, clock);
    const server = createWebServer({ bundle, emu, clients, clock, catchUp: () => catchUp(app) }).listen(options.port ?? 0, '127.0.0.1');
    started.push(() => closeServer(server));
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/`, emu, app, clock, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Wakes the scheduler and waits until what came due has run: reminders posted, expired forms deleted. */
async function catchUp(app: RunningApp): Promise<void> {
  app.wake();
  const deadline = Date.now() + CATCH_UP_LIMIT_MS;
  do {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await app.settled();
  } while ((await app.store.stats()).pendingJobs > 0 && Date.now() < deadline);
}
