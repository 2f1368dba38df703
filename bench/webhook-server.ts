import { rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as lark from '@larksuiteoapi/node-sdk';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { parseEvent } from '../src/feishu/events';
import { verifyPush } from '../src/feishu/verify';
import { createLogger } from '../src/log';
import { EmbeddedStore } from '../src/store/embedded/embedded-store';
import { type Change, type Persistence, type Records, emptyRecords } from '../src/store/embedded/persistence';
import { FilePersistence } from '../src/store/embedded/snapshot-log';
import type { PostgresStore } from '../src/store/postgres/postgres-store';
import { PUSH_MESSAGE_ID_PREFIX, SECRETS, botEnv, tempDir } from './fixtures';
import { type ServerKind, type ServerStats, callsFeishu } from './server-kinds';
import { benchTodo } from './todo-fixture';

/**
 * One webhook server under load, alone in its own process so that the load generator in the parent does not share
 * its event loop: `bare` Koa, `bare-body` (Koa reading and parsing each body, then answering), `verify` (Koa reading, verifying, decrypting and parsing each push with the bot's own
 * functions, then answering: the least any server that checks pushes must do, with no store), `verify-http` (the same
 * straight from `node:http`, as the bot serves pushes: the floor for a verifying server here), the `sdk`'s adapter,
 * or the bot, its outbox holding every job it stores (none runs: the receive path alone, see `pushes` in webhook.ts):
 * `bot` as configured by default (`bot-chatter` is the same bot, sent group chatter instead of commands), `bot-fsync` with STORE_FSYNC_MS=0 (an fdatasync before every answer), `bot-100k`
 * started on a store of 100,000 to-dos, which writes a snapshot on "snapshot" and answers `{ snapshotMs }` when it is
 * durable, `held-pg` on PostgreSQL (the URL and schema follow the Feishu URL in argv; several such servers on one schema
 * are a fleet) and `held-pg-async` on PostgreSQL with DATABASE_SYNCHRONOUS_COMMIT=off. A bot's first argument after
 * its kind is the Feishu it calls: an emulator in the benchmark's process (`Target.start`), not in this one, so that
 * this process's CPU is the bot's alone, as in production. Sends `{url}` once listening, its counters on "stats", and
 * on "stop" its last counters before exiting.
 */

type Counters = Omit<ServerStats, 'cpuMs' | 'userCpuMs'>;

/** The real file persistence, counted: how many pushes became stored event ids, in how many batches. */
class CountingPersistence implements Persistence {
  private readonly counters: Counters = { handled: 0, appends: 0, changes: 0, appendMs: 0, compactions: 0, compactionMs: 0 };
  private readonly inner: FilePersistence;
  /** The maps the store works on (load() hands them over), so that a snapshot can be asked for from outside. */
  private records: Records | undefined;

  constructor(file: string, fsyncIntervalMs: number) {
    this.inner = new FilePersistence(file, fsyncIntervalMs);
  }

  async load(): Promise<Records> {
    this.records = await this.inner.load();
    return this.records;
  }

  /** Writes a snapshot now, as the store does once its log has grown as large as its data. */
  async snapshot(): Promise<number> {
    const started = performance.now();
    await this.inner.maybeCompact(this.records ?? emptyRecords(), true);
    return performance.now() - started;
  }

  async append(changes: readonly Change[]): Promise<void> {
    const started = performance.now();
    await this.inner.append(changes);
    this.counters.appendMs += performance.now() - started;
    this.counters.appends++;
    this.counters.changes += changes.length;
    for (const [collection, id, value] of changes) if (collection === 'events' && value !== null && isPushMessageId(id)) this.counters.handled++;
  }

  maybeCompact(records: Records, force?: boolean): Promise<void> {
    return this.inner.maybeCompact(records, force);
  }

  /** The counters so far, with the snapshots the file store has written (in the background: read them live). */
  stats(): Counters {
    return { ...this.counters, compactions: this.inner.snapshotStats.count, compactionMs: this.inner.snapshotStats.ms };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The bot also remembers ids of its own as a push's (each task-sync sweep window's), which are not pushes handled. */
const isPushMessageId = (id: string) => id.startsWith(PUSH_MESSAGE_ID_PREFIX);

interface Running {
  url: string;
  counters: () => Counters | Promise<Counters>;
  snapshot?: () => Promise<number>;
  stop: () => Promise<void>;
}

/** Every job stays stored: the outbox may run none in any chat. */
const HOLD_JOBS = { outbox: { perChat: 0 } };

async function startBot(feishuDomain: string, fsyncEveryBatch: boolean, todos = 0): Promise<Running> {
  const dir = await tempDir('webhook');
  const dataFile = join(dir, 'db.json');
  if (todos > 0) {
    const now = Date.now();
    const stored = Object.fromEntries(Array.from({ length: todos }, (_, i) => benchTodo(i, now)).map((todo) => [todo.id, todo]));
    await writeFile(dataFile, JSON.stringify({ v: 1, collections: { todos: stored } }));
  }
  const extra: Record<string, string> = { TODO_ALLOWED: 'everyone', ...(fsyncEveryBatch && { STORE_FSYNC_MS: '0' }) };
  const config = loadConfig(botEnv({ feishuDomain, dataFile, extra }));
  // The persistence the app would build from this config, wrapped to count.
  const persistence = new CountingPersistence(dataFile, config.storeFsyncMs);
  const app = await startApp(config, { logger: createLogger('silent'), store: new EmbeddedStore(persistence), ...HOLD_JOBS });
  return {
    url: `${app.url}/webhook/event`,
    counters: () => persistence.stats(),
    snapshot: () => persistence.snapshot(),
    stop: async () => {
      await app.settled();
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The bot on PostgreSQL, as an operator configures it, holding its jobs. It has no log of its own to count: `handled`
 * is the event ids its schema holds (a fleet's servers each count them all).
 */
async function startPostgresBot(feishuDomain: string, databaseUrl: string, schema: string, synchronousCommit: 'on' | 'off'): Promise<Running> {
  const dir = await tempDir('webhook-pg');
  const extra = {
    TODO_ALLOWED: 'everyone',
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: '4',
    DATABASE_SYNCHRONOUS_COMMIT: synchronousCommit,
  };
  const config = loadConfig(botEnv({ feishuDomain, dataFile: join(dir, 'db.json'), extra }));
  const app = await startApp(config, { logger: createLogger('silent'), ...HOLD_JOBS });
  const { database } = app.services.store as PostgresStore;
  const none = { appends: 0, changes: 0, appendMs: 0, compactions: 0, compactionMs: 0 };
  return {
    url: `${app.url}/webhook/event`,
    counters: async () => ({
      ...none,
      handled: Number(
        (await database.query<{ n: string }>(`SELECT count(*) AS n FROM ${database.s}.events WHERE starts_with(id, '${PUSH_MESSAGE_ID_PREFIX}')`)).rows[0]?.n,
      ),
    }),
    stop: async () => {
      await app.settled();
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The baselines: the SDK's own adapter with a no-op handler, a Koa app that answers `{}` to any POST, that after
 * reading and parsing the body, or after verifying.
 */
async function startKoa(kind: 'bare' | 'bare-body' | 'verify' | 'sdk'): Promise<Running> {
  const app = new Koa();
  let handled = 0;
  if (kind === 'bare-body') {
    app.use(async (ctx) => {
      const rawBody = await getRawBody(ctx.req, { limit: 1 << 20, ...(ctx.get('content-length') && { length: ctx.get('content-length') }) });
      if (typeof JSON.parse(rawBody.toString('utf8')) === 'object') handled++;
      ctx.body = {};
    });
  } else if (kind === 'verify') {
    app.use(async (ctx) => {
      const rawBody = await getRawBody(ctx.req, { limit: 1 << 20, ...(ctx.get('content-length') && { length: ctx.get('content-length') }) });
      const verified = verifyPush({ rawBody, headers: ctx.headers, ...SECRETS, nowMs: Date.now(), replayWindowMs: 300_000 });
      if (verified.kind === 'payload' && parseEvent(verified.payload).type === 'message') handled++;
      ctx.body = {};
    });
  } else if (kind === 'sdk') {
    const dispatcher = new lark.EventDispatcher({
      encryptKey: SECRETS.encryptKey,
      verificationToken: SECRETS.verificationToken,
      loggerLevel: lark.LoggerLevel.error,
    }).register({
      'im.message.receive_v1': async () => {
        handled++;
      },
    });
    app.use(lark.adaptKoa('/webhook/event', dispatcher, { autoChallenge: true }));
  } else {
    app.use((ctx) => {
      if (ctx.method !== 'POST') return;
      handled++;
      ctx.body = {};
    });
  }
  return listening(app.listen(0, '127.0.0.1'), () => handled);
}

/** Reads, verifies, decrypts and parses each push with the bot's functions straight from `node:http`, then answers `{}`. */
async function startVerifyHttp(): Promise<Running> {
  let handled = 0;
  const server = createServer((req, res) => {
    const length = req.headers['content-length'];
    getRawBody(req, { limit: 1 << 20, ...(length && { length }) }, (error, rawBody) => {
      if (!error) {
        const verified = verifyPush({ rawBody, headers: req.headers, ...SECRETS, nowMs: Date.now(), replayWindowMs: 300_000 });
        if (verified.kind === 'payload' && parseEvent(verified.payload).type === 'message') handled++;
      }
      res.statusCode = error ? 400 : 200;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', 2);
      res.end('{}');
    });
  });
  return listening(server.listen(0, '127.0.0.1'), () => handled);
}

/** A baseline server once it listens: its pushes handled, and none of a store's counters. */
async function listening(server: Server, handled: () => number): Promise<Running> {
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook/event`,
    counters: () => ({ handled: handled(), appends: 0, changes: 0, appendMs: 0, compactions: 0, compactionMs: 0 }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const [kind, feishuDomain = '', databaseUrl = '', schema = ''] = process.argv.slice(2) as [ServerKind, string?, string?, string?];
const running =
  kind === 'held-pg' || kind === 'held-pg-async'
    ? await startPostgresBot(feishuDomain, databaseUrl, schema, kind === 'held-pg-async' ? 'off' : 'on')
    : callsFeishu(kind)
      ? await startBot(feishuDomain, kind === 'bot-fsync', kind === 'bot-100k' ? 100_000 : 0)
      : kind === 'verify-http'
        ? await startVerifyHttp()
        : await startKoa(kind);
const stats = async (): Promise<ServerStats> => {
  const cpu = process.cpuUsage();
  return { ...(await running.counters()), cpuMs: (cpu.user + cpu.system) / 1000, userCpuMs: cpu.user / 1000 };
};
process.send?.({ url: running.url });
// Never outlive the benchmark: a parent that died (or was stopped) closes the channel.
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  if (message === 'stats') void stats().then((counted) => process.send?.(counted));
  if (message === 'snapshot') void running.snapshot?.().then((snapshotMs) => process.send?.({ snapshotMs }));
  // Counted before stopping: a PostgreSQL bot's count needs its pool.
  if (message === 'stop') void stats().then((counted) => running.stop().then(() => process.send?.(counted, () => process.exit(0))));
});
