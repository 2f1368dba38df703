import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Emulator, messageEvent, startEmulator } from '../../emulator';
import { FeishuClient, credentialsRefused } from '../../src/feishu/client';
import { createLogger } from '../../src/log';
import { Metrics } from '../../src/metrics';
import { type Harness, SECRETS, TestClock, openForm, pickerValueInHours, postTodo, startHarness } from './harness';

/** What an operator sees: /healthz, /metrics, one log line per command and click, and the token's failure path. */

const TOKEN = '/open-apis/auth/v3/tenant_access_token/internal';
let h: Harness | undefined;
let others: Array<{ stop(): Promise<void> } | Emulator> = [];
afterEach(async () => {
  await h?.stop();
  h = undefined;
  for (const other of others) 'stop' in other ? await other.stop() : await other.close();
  others = [];
});

/** The value of one series in Prometheus text, or undefined when it is absent. */
function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ?? '';
    if (wanted.every((pair) => have.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

describe('/healthz', () => {
  it('answers 200 with each component’s detail: store writable, Feishu reachable, the backlog', async () => {
    h = await startHarness();
    const harness = h;
    // Start-up's own work (the identity look-up, the schedule's first look) may still be queued on a loaded machine.
    await vi.waitFor(
      async () => {
        const response = await fetch(`${harness.app.url}/healthz`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({
          status: 'ok',
          components: {
            store: { ok: true, kind: 'file', writable: true, pendingJobs: 0, oldestPendingJobAgeSeconds: 0 },
            feishu: { ok: true, degraded: false, credentials: 'accepted', reachable: true, lastAnswerAt: expect.any(String) },
            events: { ok: true, transport: 'webhook', state: 'open', since: expect.any(String), reconnects: 0 },
            taskSync: { ok: true, refused: false },
          },
        });
      },
      { timeout: 5_000 },
    );
  });

  it('shows a failing store as a category only, the driver’s text going to the log (issue 23, item 5)', async () => {
    h = await startHarness();
    const store = h.app.store;
    const failures: Array<[Error & { code?: string }, string]> = [
      [Object.assign(new Error('password authentication failed for user "todo_bot"'), { code: '28P01' }), 'auth'],
      [Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED' }), 'unreachable'],
      [new Error('timeout exceeded when trying to connect'), 'timeout'],
      [Object.assign(new Error("ENOSPC: no space left on device, write '/srv/bot/db.json.log'"), { code: 'ENOSPC' }), 'disk'],
    ];
    for (const [error, category] of failures) {
      store.stats = async () => {
        throw error;
      };
      const response = await fetch(`${h.app.url}/healthz`);
      expect(response.status).toBe(503);
      const text = await response.text();
      expect(JSON.parse(text).components.store).toEqual({ ok: false, kind: 'file', writable: false, error: category });
      expect(text).not.toContain(error.message.slice(0, 12));
      expect(h.logs.some((line) => line.includes('the store failed its health check') && line.includes(error.message.slice(0, 12)))).toBe(true);
    }
  });
});

describe('/metrics', () => {
  it('counts pushes, Feishu calls by result, commands and clicks; gauges the backlog; includes process metrics', async () => {
    h = await startHarness();
    const bot = h;
    bot.emu.fault({ method: 'POST', path: '/open-apis/im/v1/messages', code: 230020 });
    await postTodo(bot, { text: 'Measured', remindAt: pickerValueInHours(3) });
    await openForm(bot, 'ou_admin', 'Left open');
    const forged = messageEvent({ token: SECRETS.verificationToken, senderId: 'ou_admin', text: '/help', eventId: 'ev_forged' });
    expect((await bot.emu.push(`${bot.app.url}/webhook/event`, forged, { encryptKey: 'not-the-key' })).status).toBeGreaterThanOrEqual(400);

    const statsRead = vi.spyOn(bot.app.store, 'stats');
    const response = await fetch(`${bot.app.url}/metrics`);
    expect(response.status).toBe(200);
    // The gauges and the store's health part come from one read (a query, on PostgreSQL).
    expect(statsRead).toHaveBeenCalledTimes(1);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(series(text, 'todo_bot_pushes_total', { route: 'event', outcome: 'accepted' })).toBe(2);
    expect(series(text, 'todo_bot_pushes_total', { route: 'card', outcome: 'accepted' })).toBe(1);
    expect(series(text, 'todo_bot_pushes_total', { route: 'event', outcome: 'refused' })).toBe(1);
    expect(series(text, 'todo_bot_push_duration_seconds_count', { route: 'event' })).toBe(3);
    expect(series(text, 'todo_bot_feishu_calls_total', { api: 'im.v1.message.create', result: '230020' })).toBe(1);
    expect(series(text, 'todo_bot_feishu_calls_total', { api: 'im.v1.message.create', result: '0' })).toBe(1);
    expect(series(text, 'todo_bot_feishu_calls_total', { api: 'bot.v3.info', result: '0' })).toBe(1);
    expect(series(text, 'todo_bot_feishu_call_duration_seconds_count', { api: 'ephemeral.v1.send' })).toBe(2);
    expect(series(text, 'todo_bot_commands_total', { command: 'todo', outcome: 'ok' })).toBe(2);
    expect(series(text, 'todo_bot_card_actions_total', { action: 'todo.submit', outcome: 'success' })).toBe(1);
    expect(series(text, 'todo_bot_forms_open')).toBe(1);
    expect(series(text, 'todo_bot_reminders_pending')).toBe(1);
    expect(series(text, 'todo_bot_jobs', { state: 'pending' })).toBe(0);
    expect(series(text, 'todo_bot_jobs', { state: 'running' })).toBe(0);
    expect(series(text, 'todo_bot_component_up', { component: 'store' })).toBe(1);
    expect(series(text, 'todo_bot_component_up', { component: 'feishu' })).toBe(1);
    expect(series(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(series(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE todo_bot_feishu_rate_limit_wait_seconds histogram');

    // Every app has its own registry: a second bot in this process has counted nothing of the first's.
    const second = await startHarness();
    others.push(second);
    const secondText = (await second.app.metrics.render()).body;
    expect(series(secondText, 'todo_bot_pushes_total', { route: 'card', outcome: 'accepted' })).toBeUndefined();
  });
  it('samples the event loop’s lag every 100 ms, so that an idle bot is not woken 100 times a second', async () => {
    const bot = await startHarness();
    h = bot;
    const lag = async (name: string) => series((await bot.app.metrics.render()).body, name);
    // The histogram restarts at each scrape, and its mean is NaN until a sample: look less often than it samples.
    let mean = await lag('nodejs_eventloop_lag_mean_seconds');
    for (let tries = 0; !Number.isFinite(mean) && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      mean = await lag('nodejs_eventloop_lag_mean_seconds');
    }
    // A sample is the time between two of the monitor's wake-ups: prom-client's default would give about 0.01. Ours
    // are 0.1 s apart by libuv's clock, which counts whole milliseconds from the start of a turn of the loop, so one
    // can read a little under (0.098992 s in a CI run), and one after a wake-up that ran late in its turn, more.
    expect(mean).toBeGreaterThanOrEqual(0.09);
    expect(await lag('nodejs_eventloop_lag_min_seconds')).toBeGreaterThanOrEqual(0.05);
  });
});

describe('/metrics: what is running (issue 23, item 11)', () => {
  it('gives the build, whether Feishu is reached, each commit’s time and each reminder’s lateness', async () => {
    const clock = new TestClock(Date.UTC(2026, 10, 23, 2, 0));
    h = await startHarness({ clock, emulator: { now: clock.now } });
    await postTodo(h, { text: 'Measured late', remindAt: pickerValueInHours(1, clock.now()) });
    // The bot was busy (or down) 90 s past the reminder's time.
    await clock.advance(60 * 60 * 1000 + 90_000);
    const text = (await h.app.metrics.render()).body;
    const version = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(series(text, 'todo_bot_build_info', { version, commit: 'unknown' })).toBe(1);
    expect(series(text, 'todo_bot_feishu_reachable')).toBe(1);
    expect(series(text, 'todo_bot_store_commit_duration_seconds_count')).toBeGreaterThan(2);
    expect(series(text, 'todo_bot_reminder_lateness_seconds_count')).toBe(1);
    expect(series(text, 'todo_bot_reminder_lateness_seconds_sum')).toBeGreaterThanOrEqual(90);
    expect(series(text, 'todo_bot_reminder_lateness_seconds_bucket', { le: '60' })).toBe(0);
    // The file store has no pool.
    expect(series(text, 'todo_bot_postgres_pool_connections', { state: 'total' })).toBeUndefined();
  });

  it('counts every push answered before a scrape, however many came since the last one', async () => {
    const metrics = new Metrics({
      storeStats: async () => ({ writable: true, pendingJobs: 0, retryingJobs: 0, remindersPending: 0, formsOpen: 0 }) as never,
      build: { version: 'test', commit: 'test' },
      jobsRunning: () => 0,
      health: () => [],
      events: () => undefined,
    });
    // Pushes are recorded in batches: counts below one batch, across several and after a scrape all show exactly.
    let durations = 0;
    const answer = (count: number, outcome: string) => {
      for (let i = 0; i < count; i++) {
        const seconds = (i % 7) / 1000;
        metrics.push('event', outcome, seconds);
        durations += seconds;
      }
    };
    answer(3, 'accepted');
    let text = (await metrics.render()).body;
    expect(series(text, 'todo_bot_pushes_total', { route: 'event', outcome: 'accepted' })).toBe(3);
    answer(1_000, 'accepted');
    answer(2, 'refused');
    text = (await metrics.render()).body;
    expect(series(text, 'todo_bot_pushes_total', { route: 'event', outcome: 'accepted' })).toBe(1_003);
    expect(series(text, 'todo_bot_pushes_total', { route: 'event', outcome: 'refused' })).toBe(2);
    expect(series(text, 'todo_bot_push_duration_seconds_count', { route: 'event' })).toBe(1_005);
    expect(series(text, 'todo_bot_push_duration_seconds_sum', { route: 'event' })).toBeCloseTo(durations, 9);
    expect(series(text, 'todo_bot_push_duration_seconds_bucket', { route: 'event', le: '0.005' })).toBe(
      [3, 1_000, 2].reduce((sum, count) => sum + Array.from({ length: count }, (_, i) => i % 7).filter((ms) => ms <= 5).length, 0),
    );
  });

  it('gives PostgreSQL’s pool where the store has one', async () => {
    const metrics = new Metrics({
      storeStats: async () => ({ writable: true, pendingJobs: 0, retryingJobs: 0, remindersPending: 0, formsOpen: 0 }) as never,
      storePool: () => ({ total: 4, idle: 1, waiting: 2 }),
      build: { version: '1.2.3', commit: 'abcdef123456' },
      jobsRunning: () => 0,
      health: () => [],
      events: () => undefined,
    });
    const text = (await metrics.render()).body;
    expect(series(text, 'todo_bot_postgres_pool_connections', { state: 'total' })).toBe(4);
    expect(series(text, 'todo_bot_postgres_pool_connections', { state: 'idle' })).toBe(1);
    expect(series(text, 'todo_bot_postgres_pool_connections', { state: 'waiting' })).toBe(2);
    expect(series(text, 'todo_bot_build_info', { version: '1.2.3', commit: 'abcdef123456' })).toBe(1);
  });
});

describe('the log', () => {
  it('has one info line per command and per click, saying who, what, the outcome and the time, never the text', async () => {
    h = await startHarness();
    const text = 'Secret plans for the offsite';
    await postTodo(h, { text, owner: 'ou_admin' });
    await h.say('ou_member', '/todo Not allowed');
    await h.settled();
    const lines = h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const commands = lines.filter((line) => line.msg === 'command handled');
    expect(commands).toEqual([
      expect.objectContaining({ level: 30, chatId: 'oc_group', userId: 'ou_admin', command: 'todo', outcome: 'ok', ms: expect.any(Number) }),
      expect.objectContaining({ level: 30, chatId: 'oc_group', userId: 'ou_member', command: 'todo', outcome: 'refused', ms: expect.any(Number) }),
    ]);
    const clicks = lines.filter((line) => line.msg === 'card action handled');
    expect(clicks).toEqual([expect.objectContaining({ level: 30, userId: 'ou_admin', action: 'todo.submit', outcome: 'success', ms: expect.any(Number) })]);
    expect(h.logs.filter((line) => line.includes('Secret plans') || line.includes('Not allowed'))).toEqual([]);
  });
});

describe('a failed tenant-token fetch', () => {
  const client = (emu: Emulator, appSecret = SECRETS.appSecret) =>
    new FeishuClient({ appId: SECRETS.appId, appSecret, domain: emu.url, timeoutMs: 5_000, logger: createLogger('silent') });

  it('fails every call waiting for it at once, with its failure, instead of each waiting and fetching again', async () => {
    const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
    others.push(emu);
    // The fetch is held a little, so all five calls are waiting for it, then its connection is dropped.
    emu.fault({ path: TOKEN, drop: true, delayMs: 200 });
    const feishu = client(emu);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => feishu.botInfo(1)));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    expect(emu.arrivedCalls('POST', TOKEN)).toBe(1);
  });

  it('fails every waiting call with the refusal when Feishu refuses the credentials', async () => {
    const emu = await startEmulator({ appId: SECRETS.appId, appSecret: 'another-secret' });
    others.push(emu);
    emu.fault({ path: TOKEN, delayMs: 200 });
    const feishu = client(emu);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => feishu.botInfo(1)));
    const reasons = results.map((r) => (r.status === 'rejected' ? credentialsRefused(r.reason)?.feishuCode : 'fulfilled'));
    expect(reasons).toEqual(Array(5).fill(10014));
    expect(emu.arrivedCalls('POST', TOKEN)).toBe(1);
  });
});
