import pg from 'pg';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { ClickThrottle } from '../../src/bot/throttle';
import { FleetRateLimiter } from '../../src/feishu/fleet-rate-limiter';
import { type Limit, type LimitedMethod, RateLimitWaitTooLong } from '../../src/feishu/rate-limits';
import type { Permit, PermitLimit } from '../../src/shared-limits';
import { Database } from '../../src/store/postgres/database';
import type { PostgresStore } from '../../src/store/postgres/postgres-store';
import { PostgresSharedLimits } from '../../src/store/postgres/shared-limits';
import { describePostgres, emptySchemas, openPostgresStore, postgresUrl } from '../support/postgres';

/**
 * The fleet's limits: two "instances" (two limiters, each with its own connection pool) on one database. Permits are
 * checked by the times the database gave them, not by when timers fired, so the checks hold on a busy machine.
 */
describePostgres('fleet-wide limits on PostgreSQL', () => {
  let store: PostgresStore;
  let schema: string;
  const pools: Database[] = [];
  const schemas = emptySchemas('limits');
  beforeEach(async () => {
    schema = schemas.take();
    store = await openPostgresStore(schema);
  });
  afterEach(async () => {
    for (const db of pools.splice(0)) await db.end();
    await store.close();
    await schemas.giveBack(schema);
  });
  afterAll(() => schemas.dropAll());
  const instance = () => {
    const db = new Database({ url: postgresUrl, schema, poolSize: 4 });
    pools.push(db);
    return db;
  };
  const shared = () => new PostgresSharedLimits(instance());
  const limiters = (maxWaitMs: number, limits?: Partial<Record<LimitedMethod, readonly Limit[]>>) =>
    [new FleetRateLimiter(shared(), maxWaitMs, limits), new FleetRateLimiter(shared(), maxWaitMs, limits)] as const;
  /** The most permits any window of `windowMs` holds. */
  const busiestWindow = (times: number[], windowMs: number) =>
    Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + windowMs).length));

  it('spaces a chat’s messages for both instances together, 5 in any second, and leaves other chats alone', async () => {
    const [a, b] = limiters(60_000);
    const permits = await Promise.all(Array.from({ length: 30 }, (_, n) => (n % 2 ? a : b).reserve('message.send', { chatId: 'oc_1' })));
    const times = permits.map((p) => p.at).sort((x, y) => x - y);
    expect(new Set(times).size).toBe(30);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(212 - 1e-6);
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(5);
    // Six seconds of oc_1's permits are queued; another chat's first permit is not behind them.
    const other = await a.reserve('message.send', { chatId: 'oc_2' });
    expect(other.at).toBeLessThan(times[5] as number);
  });

  it('lets a per-minute limit be spent in a burst, never more than its number in any window', async () => {
    const limits = { 'message.recall': [{ scope: 'app', cap: 3, perMs: 10_000 }] } as const;
    const [a, b] = limiters(60_000, limits);
    const permits = await Promise.all(Array.from({ length: 8 }, (_, n) => (n % 2 ? a : b).reserve('message.recall', {})));
    const times = permits.map((p) => p.at).sort((x, y) => x - y);
    // The first three come at once; the fourth waits for the first to leave the window (10 s and 6% slack).
    expect((times[2] as number) - (times[0] as number)).toBeLessThan(10_600);
    expect((times[3] as number) - (times[0] as number)).toBeGreaterThanOrEqual(10_600);
    expect(busiestWindow(times, 10_600)).toBe(3);
  });

  it('discards the connection of a permit that got no answer in time: the next permit does not queue behind its statement', async () => {
    const db = new Database({ url: postgresUrl, schema, poolSize: 2, queryTimeoutMs: 1_000 });
    pools.push(db);
    const limits = new PostgresSharedLimits(db);
    const chat = (key: string): PermitLimit[] => [{ key, spacingMs: 10 }];
    expect(await limits.reservePermit(chat('oc_1'), 60_000)).toMatchObject({ granted: true });
    // Another session holds oc_1's limit, so the next permit's statement waits on its row past the timeout.
    const holder = new pg.Client({ connectionString: postgresUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${schema}.rate_limits WHERE key = 'oc_1' FOR UPDATE`);
      await expect(limits.reservePermit(chat('oc_1'), 60_000)).rejects.toThrow('Query read timeout');
      // The statement is still running on that connection; given back to the pool, it would hold the next one too.
      expect(await limits.reservePermit(chat('oc_2'), 60_000)).toMatchObject({ granted: true });
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
  });

  it('refuses a permit further away than maxWaitMs, taking nothing from any limit', async () => {
    const limits = {
      'message.send': [{ scope: 'chat', cap: 1, perMs: 1000 }],
      'ephemeral.send': [
        { scope: 'chat', cap: 1, perMs: 1000 },
        // Two a second, not Feishu's 50: permits 530 ms apart outlast the round trips of a busy machine, which 21 ms
        // apart did not (the next permit was then simply now).
        { scope: 'app', cap: 2, perMs: 1000 },
      ],
    } as const;
    const [patient] = limiters(60_000, limits);
    const [hasty] = limiters(0, limits);
    const first = await patient.reserve('message.send', { chatId: 'oc_1' });
    await patient.reserve('message.send', { chatId: 'oc_1' });
    await expect(hasty.reserve('message.send', { chatId: 'oc_1' })).rejects.toBeInstanceOf(RateLimitWaitTooLong);
    expect((await patient.reserve('message.send', { chatId: 'oc_1' })).at).toBeCloseTo(first.at + 2 * 1060, 6);
    // Refused because of its chat, an ephemeral send takes nothing from the app's limit either.
    const held = await patient.reserve('ephemeral.send', { chatId: 'oc_1' });
    await expect(hasty.reserve('ephemeral.send', { chatId: 'oc_1' })).rejects.toBeInstanceOf(RateLimitWaitTooLong);
    const app = await patient.reserve('ephemeral.send', { chatId: 'oc_2' });
    expect(app.at).toBeCloseTo(held.at + 1060 / 2, 6);
  });

  it('resolves when the permit’s time comes, and gives up when aborted', async () => {
    const limits = { 'message.send': [{ scope: 'chat', cap: 1, perMs: 30_000 }] } as const;
    const [a] = limiters(60_000, limits);
    await a.acquire('message.send', { chatId: 'oc_1' });
    const waiting = new AbortController();
    const second = a.acquire('message.send', { chatId: 'oc_1' }, waiting.signal);
    waiting.abort(new Error('the job was stopped'));
    await expect(second).rejects.toThrow('the job was stopped');
    // Already aborted: nothing is taken.
    const before: Permit = await a.reserve('message.send', { chatId: 'oc_2' });
    await expect(a.acquire('message.send', { chatId: 'oc_2' }, AbortSignal.abort())).rejects.toThrow();
    expect((await a.reserve('message.send', { chatId: 'oc_2' })).at).toBeCloseTo(before.at + 31_800, 6);
  });

  it('times a permit from when it is granted, not from when its caller began waiting for the limit', async () => {
    const [a, b] = limiters(60_000);
    await a.reserve('message.send', { chatId: 'oc_1' });
    // Another instance holds the chat's limit (a permit being granted there) while this one asks.
    const db = instance();
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${db.s}.rate_limits WHERE key LIKE 'message.send|chat:oc_1|%' FOR UPDATE`);
      const asking = b.reserve('message.send', { chatId: 'oc_1' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      const releasedAt = Number((await holder.query<{ now: number }>('SELECT extract(epoch FROM clock_timestamp()) * 1000 AS now')).rows[0]?.now);
      await holder.query('COMMIT');
      const permit = await asking;
      // The previous permit's spacing (212 ms) has passed: this one is due at once, from the moment it was granted.
      // A permit dated when its caller began to wait (400 ms earlier) would go out together with the next ones.
      expect(permit.at).toBeGreaterThanOrEqual(releasedAt);
      expect(permit.waitMs).toBeLessThan(50);
    } finally {
      holder.release();
    }
  });

  it('does not release the calls a stalled instance held back all at once: a permit used late is taken again', async () => {
    // 20 a second: permits 53 ms apart. Eight calls wait for theirs; the instance then stalls for 250 ms (a long GC,
    // a descheduled process), during which four of them fell due.
    const limits = { 'message.send': [{ scope: 'chat', cap: 20, perMs: 1000 }] } as const;
    const [a] = limiters(60_000, limits);
    const started = performance.now();
    const released = Array.from({ length: 8 }, () => a.acquire('message.send', { chatId: 'oc_1' }).then(() => performance.now() - started));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stallUntil = performance.now() + 250;
    while (performance.now() < stallUntil) {
      // The event loop is held, as a stall holds it.
    }
    const times = (await Promise.all(released)).sort((x, y) => x - y);
    // Used when they woke, the late four would go out within a millisecond or two of each other, with the next ones
    // close behind: four calls where the limit allows one. Taken again, each goes at a time of its own.
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThan(25);
  });

  it('sweeps keys idle for minutes and starts them afresh', async () => {
    const [a] = limiters(60_000);
    await a.reserve('message.patch', { messageId: 'om_1' });
    await a.reserve('ephemeral.send', { chatId: 'oc_1' });
    const db = instance();
    await db.query(`UPDATE ${db.s}.rate_limits SET last_at = 0 WHERE key LIKE 'message.patch%'`);
    await a.sweep();
    const keys = (await db.query<{ key: string }>(`SELECT key FROM ${db.s}.rate_limits ORDER BY key`)).rows.map((r) => r.key);
    expect(keys).toEqual(['ephemeral.send|app:app|1000', 'ephemeral.send|app:app|60000', 'ephemeral.send|chat:oc_1|1000']);
    expect((await db.query(`SELECT 1 FROM ${db.s}.rate_limit_ring WHERE key LIKE 'message.patch%'`)).rowCount).toBe(0);
    expect((await a.reserve('message.patch', { messageId: 'om_1' })).waitMs).toBeLessThan(212);
  });

  it('counts each person’s clicks on a card once for the whole fleet: one notice, then quiet', async () => {
    const throttles = [
      new ClickThrottle(5, 60, (options) => shared().throttleLimiter(options)),
      new ClickThrottle(5, 60, (options) => shared().throttleLimiter(options)),
    ];
    const verdicts = await Promise.all(Array.from({ length: 12 }, (_, n) => (throttles[n % 2] as ClickThrottle).check('oc_1', 'ou_a')));
    expect(verdicts.filter((v) => v === 'allow')).toHaveLength(5);
    expect(verdicts.filter((v) => v === 'warn')).toHaveLength(1);
    expect(verdicts.filter((v) => v === 'drop')).toHaveLength(6);
    expect(await (throttles[1] as ClickThrottle).check('oc_1', 'ou_b')).toBe('allow');
  });
});
