import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, type EmulatorOptions, type PushResult, startEmulator } from '../../emulator';
import { type AppOptions, type RunningApp, startApp } from '../../src/app';
import { type Config, loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import type { PostgresStore } from '../../src/store/postgres/postgres-store';
import {
  type Answer,
  type ClickOptions,
  type FlowHarness,
  SECRETS,
  type SayOptions,
  botEnv,
  checkCallbackAnswer,
  clickPayload,
  messagePayload,
} from '../e2e/harness';
import { dropSchema, openPostgresStore, postgresUrl, uniqueSchema } from '../support/postgres';

/**
 * Several instances of the real bot, in this process, on one PostgreSQL schema of their own (`DATABASE_URL` and
 * `DATABASE_SCHEMA`, as an operator sets them), calling one emulated Feishu. Pushes are signed and encrypted as
 * Feishu sends them and reach the instances as a load balancer hands them out: each push to one instance, picked
 * at random among those up (or, with `via(i)`, to the one a test names). `store` reads what the fleet stored, as
 * one more client of the database.
 */

export interface FleetOptions {
  /** Instances; default 3. */
  size?: number;
  emulator?: EmulatorOptions;
  /** More settings for every instance. */
  env?: Record<string, string>;
  /** Options for every instance (a shared `now` moves all their clocks together). */
  app?: AppOptions;
}

/** An answer, and the instance that gave it. */
export type RoutedAnswer = Answer & { via: number };

/** A harness whose pushes go through the fleet's balancer, or to one instance. */
export interface FleetView extends FlowHarness {
  say(sender: string, text: string, opts?: SayOptions): Promise<RoutedAnswer>;
  click(operator: string, messageId: string, value: Record<string, unknown> | undefined, opts?: ClickOptions): Promise<RoutedAnswer>;
}

export interface Fleet extends FleetView {
  emu: Emulator;
  schema: string;
  /** Each instance's app while it runs, `undefined` while it is stopped. */
  instances: Array<RunningApp | undefined>;
  /** Each instance's log lines, across its restarts. */
  logs: string[][];
  /** The fleet's store, read from outside the instances. */
  store: PostgresStore;
  /** Waits until no instance runs a job and the database holds none (at most `limitMs`, default 30 s; then throws). */
  settled(limitMs?: number): Promise<void>;
  /** A view that pushes to instance `i` only (its `say`, `click`, `app`); settling still waits for the whole fleet. */
  via(i: number): FleetView;
  /** The instance the load balancer picks for the next push: a random one among those running. */
  pick(): number;
  /** Posts one signed, encrypted push to instance `i` (the balancer's pick when absent). */
  push(route: '/webhook/event' | '/webhook/card', payload: object, i?: number): Promise<PushResult & { via: number }>;
  /** Makes every running instance look for due work (after a test moved the shared clock). */
  wake(): void;
  /** Stops instance `i` gracefully (its leases released, its pushes answered). */
  stopInstance(i: number): Promise<void>;
  startInstance(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** The longest `settled()` waits for the fleet's stored jobs to finish. */
const SETTLE_LIMIT_MS = 30_000;

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  if (postgresUrl === '') throw new Error('startFleet needs PostgreSQL: call it inside describePostgres');
  const size = options.size ?? 3;
  const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, ...options.emulator });
  const schema = uniqueSchema('fleet');
  const dir = await mkdtemp(join(tmpdir(), 'todo-fleet-'));
  const now = options.app?.now ?? Date.now;
  const logs: string[][] = Array.from({ length: size }, () => []);
  const configs: Config[] = Array.from({ length: size }, (_, i) =>
    loadConfig(
      botEnv({
        feishuDomain: emu.url,
        // Never written: with DATABASE_URL set the file store is not used.
        dataFile: join(dir, `instance-${i}.json`),
        logLevel: 'info',
        extra: { DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: '4', ...options.env },
      }),
    ),
  );
  const instances: Array<RunningApp | undefined> = Array.from({ length: size }, () => undefined);
  const startInstance = async (i: number) => {
    const logger = createLogger((configs[i] as Config).logLevel, { write: (line: string) => void logs[i]?.push(line) });
    instances[i] = await startApp(configs[i] as Config, {
      logger,
      feishuRetry: { baseDelayMs: 5, maxDelayMs: 50 },
      jobRetryDelaysMs: [50, 100, 200],
      ...options.app,
    });
  };
  // Started together, as a deploy starts them: the first applies the migrations while the others wait for its lock.
  await Promise.all(instances.map((_, i) => startInstance(i)));
  const store = await openPostgresStore(schema, { poolSize: 2 });

  const running = () => instances.flatMap((app, i) => (app ? [i] : []));
  const appOf = (i: number): RunningApp => {
    const app = instances[i];
    if (!app) throw new Error(`instance ${i} is not running`);
    return app;
  };
  const pick = () => {
    const up = running();
    if (up.length === 0) throw new Error('no instance is running');
    return up[Math.floor(Math.random() * up.length)] as number;
  };
  let pushes = 0;
  // Signed on the instances' clock, so a test that moves it does not make its pushes stale.
  const push: Fleet['push'] = async (route, payload, i = pick()) => {
    const answer = await emu.push(`${appOf(i).url}${route}`, payload, { encryptKey: SECRETS.encryptKey, timestamp: Math.floor(now() / 1000) });
    return { ...answer, via: i };
  };

  const settled = async (limitMs = SETTLE_LIMIT_MS) => {
    const deadline = Date.now() + limitMs;
    for (;;) {
      await Promise.all(running().map((i) => appOf(i).settled()));
      const { pendingJobs } = await store.stats();
      if (pendingJobs === 0) return;
      if (Date.now() > deadline) throw new Error(`the fleet still has ${pendingJobs} pending jobs after ${limitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  /** `say` and `click` through `target()`: the balancer's pick, or one instance. */
  const view = (target: () => number): FleetView => ({
    emu,
    get app() {
      return appOf(target());
    },
    say: (sender: string, text: string, opts: SayOptions = {}) =>
      push('/webhook/event', messagePayload(sender, text, opts, opts.eventId ?? `ev_fleet_msg_${++pushes}_${Date.now()}`), target()),
    async click(operator: string, messageId: string, value: Record<string, unknown> | undefined, opts: ClickOptions = {}) {
      const answer = await push(
        '/webhook/card',
        clickPayload(operator, messageId, value, opts, opts.eventId ?? `ev_fleet_card_${++pushes}_${Date.now()}`),
        target(),
      );
      checkCallbackAnswer(answer);
      return answer;
    },
    settled,
  });
  const balanced = view(pick);

  return {
    ...balanced,
    // A getter does not survive the spread above.
    get app() {
      return appOf(running()[0] ?? 0);
    },
    schema,
    instances,
    logs,
    store,
    via: (i) => view(() => i),
    pick,
    push,
    wake() {
      for (const i of running()) appOf(i).wake();
    },
    async stopInstance(i) {
      await appOf(i).stop();
      instances[i] = undefined;
    },
    startInstance,
    async stop() {
      await Promise.all(running().map((i) => appOf(i).stop()));
      await store.close();
      await emu.close();
      await dropSchema(schema);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
