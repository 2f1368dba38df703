import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Todo } from '../../src/domain/model';
import { storeFailure } from '../../src/store/failure';
import { LISTEN_KEEPALIVE_MS } from '../../src/store/postgres/commit-channel';
import { Database } from '../../src/store/postgres/database';
import { laneKeyPrefix } from '../../src/store/postgres/job-sql';
import { MIGRATIONS_DIR } from '../../src/store/postgres/migrate';
import { PRUNE_BATCH, PostgresStore } from '../../src/store/postgres/postgres-store';
import { StoreOpenError } from '../../src/store/postgres/settings';
import { DUE_LOOK_INTERVAL_MS, type Job } from '../../src/store/store';
import { heardBy, job, storeContract, todo } from '../store.contract';
import { describePostgres, dropSchema, emptySchemas, openPostgresStore, postgresUrl, queryRows, uniqueSchema } from '../support/postgres';

describePostgres('the PostgreSQL store', () => {
  const contractSchemas = emptySchemas('contract');
  afterAll(() => contractSchemas.dropAll());
  storeContract('postgres', { shared: true, durable: true }, async () => {
    const schema = contractSchemas.take();
    return { open: () => openPostgresStore(schema), cleanup: () => contractSchemas.giveBack(schema) };
  });

  describe('on its own', () => {
    const stores: PostgresStore[] = [];
    const schemas: string[] = [];
    /** Other sessions a test holds locks in: ended first, which frees what they hold. */
    const holders: pg.Client[] = [];
    afterEach(async () => {
      for (const holder of holders.splice(0)) await holder.end();
      for (const store of stores.splice(0)) await store.close();
      for (const schema of schemas.splice(0)) await dropSchema(schema);
    });
    const fresh = () => {
      const schema = uniqueSchema('pg');
      schemas.push(schema);
      return schema;
    };
    const open = async (schema: string, options?: Parameters<typeof openPostgresStore>[1]) => {
      const store = await openPostgresStore(schema, options);
      stores.push(store);
      return store;
    };

    it('tells the metrics its pool: connections open, idle, and requests waiting', async () => {
      const store = await open(fresh());
      await store.stats();
      const usage = store.poolUsage();
      expect(usage.total).toBeGreaterThanOrEqual(1);
      expect(usage.idle).toBeLessThanOrEqual(usage.total);
      expect(usage.waiting).toBe(0);
    });

    it('serves clicks before the background at its pool, and its background store is the same store', async () => {
      const store = await open(fresh(), { poolSize: 2 });
      const background = store.background();
      const heard = heardBy(store);
      expect(await background.commit({ now: 0, todos: [todo('t1')], jobs: [job('j1')] })).toEqual({ ok: true });
      expect((await store.todo('t1'))?.id).toBe('t1');
      expect(heard).toEqual([expect.objectContaining({ jobs: true })]);
      // The jobs' queue is shared: a job committed through one is claimed through the other.
      expect((await background.claimJobs({ owner: 'a', now: 0, leaseMs: 30_000, max: 1, perChat: 1 })).jobs.map((j) => j.id)).toEqual(['j1']);

      // Both connections busy, a background read waiting, then a click's: the click's read goes first.
      const db = store.database;
      const busy = [db.background.query('SELECT pg_sleep(0.2)'), db.background.query('SELECT pg_sleep(0.6)')];
      await vi.waitFor(() => expect(db.pool.idleCount === 0 && db.pool.totalCount === 2).toBe(true), { timeout: 5_000 });
      const answered: string[] = [];
      const reads = [background.todo('t1').then(() => answered.push('background')), store.todo('t1').then(() => answered.push('click'))];
      expect(store.poolUsage()).toEqual({ total: 2, idle: 0, waiting: 2 });
      await Promise.all([...busy, ...reads]);
      expect(answered).toEqual(['click', 'background']);
      expect(store.poolUsage().waiting).toBe(0);
    });

    it('applies each migration once, under its lock, when instances start together', async () => {
      const schema = fresh();
      await Promise.all([open(schema), open(schema), open(schema)]);
      const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql')).map((file) => file.replace(/\.sql$/, ''));
      const applied = await queryRows<{ name: string }>(`SELECT name FROM ${schema}.pgmigrations ORDER BY id`);
      expect(applied.map((row) => row.name)).toEqual(files.sort());
      await open(schema);
      expect(await queryRows(`SELECT name FROM ${schema}.pgmigrations`)).toHaveLength(files.length);
    });

    it('keeps text with a NUL character, which jsonb would refuse, in records and job payloads', async () => {
      const store = await open(fresh());
      const text = 'before\u0000after';
      expect(await store.commit({ now: 0, todos: [todo('t1', { text })], jobs: [job('j1', { payload: { text } })] })).toEqual({ ok: true });
      expect((await store.todo('t1'))?.text).toBe(text);
      const [leased] = (await store.claimJobs({ owner: 'a', now: 0, leaseMs: 30_000, max: 1, perChat: 1 })).jobs as [Job];
      expect(leased.payload).toEqual({ text });
      await store.recordStep(leased, 'echo', { text });
      await store.retryJob(leased, 0, `Feishu said: ${text}`);
      expect(await store.job('j1')).toMatchObject({ steps: { echo: { text } }, lastError: 'Feishu said: before\uFFFDafter' });
    });

    it('hears other instances again after its listening connection drops, and says that anything may have changed', async () => {
      const schema = fresh();
      const a = await open(schema);
      const b = await open(schema);
      const heard = heardBy(a);
      const dropped = await listeningBackends<{ dropped: boolean }>(schema, 'pg_terminate_backend(pid) AS dropped');
      // Both instances listen on the schema's channel: both connections were dropped.
      expect(dropped).toHaveLength(2);
      await expect.poll(() => heard.some((c) => c.jobs && c.dueAt === 0), { timeout: 10_000 }).toBe(true);
      heard.length = 0;
      await b.commit({ now: 0, todos: [todo('t1', { remindAt: 5_000 })] });
      await expect.poll(() => heard, { timeout: 10_000 }).toContainEqual({ jobs: false, dueAt: 5_000, elsewhere: true });
    });

    it('tells the other instances of a due time only when it may come before their next look', async () => {
      const schema = fresh();
      const a = await open(schema);
      const b = await open(schema);
      const heardByA = heardBy(a);
      const heardByB = heardBy(b);
      const now = 1_000_000;
      // An hour off: A's scheduler looks at least once a minute, and will find it then.
      await b.commit({ now, todos: [todo('t1', { remindAt: now + 3_600_000 })] });
      await b.commit({ now, todos: [todo('t2', { remindAt: now + DUE_LOOK_INTERVAL_MS })] });
      // Notices arrive in commit order: A has heard the second, so the first was never sent. B told itself both.
      await expect.poll(() => heardByA, { timeout: 10_000 }).toEqual([{ jobs: false, dueAt: now + DUE_LOOK_INTERVAL_MS, elsewhere: true }]);
      expect(heardByB.map(({ dueAt }) => dueAt)).toEqual([now + 3_600_000, now + DUE_LOOK_INTERVAL_MS]);
    });

    it('hears the notice of an instance of the version before due times (a rolling deploy) as any due time moved', async () => {
      const schema = fresh();
      const a = await open(schema);
      const heard = heardBy(a);
      const older = new pg.Client({ connectionString: postgresUrl });
      await older.connect();
      await older.query('SELECT pg_notify($1, $2)', [`feishu_todo_${schema}`, JSON.stringify({ from: 'an-older-instance', jobs: false, due: true })]);
      await older.end();
      await expect.poll(() => heard, { timeout: 10_000 }).toEqual([{ jobs: false, dueAt: 0, elsewhere: true }]);
    });

    /**
     * A store whose statements give up after 1 s, and another session holding the lock of the lane `held` (released by
     * `free`), so a commit of a job on that lane gets no answer, as from a database gone quiet.
     */
    const quietLane = async () => {
      const schema = fresh();
      const store = await open(schema, { poolSize: 2, queryTimeoutMs: 1_000 });
      const holder = new pg.Client({ connectionString: postgresUrl });
      await holder.connect();
      holders.push(holder);
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${laneKeyPrefix(schema)}held`]);
      return { schema, store, free: () => holder.query('COMMIT') };
    };

    it('fails a group of pushes that gets no answer in time, commits the next at once, and lets a push land once however the first ended', async () => {
      const { schema, store, free } = await quietLane();
      const stuck = store.commit({ eventId: 'ev_held', now: 0, jobs: [job('j_held', { lane: 'held' })] }).catch((error: unknown) => error);
      expect(storeFailure(await stuck)).toBe('timeout');
      // Every push after it would have waited for it: the next group commits on another connection at once.
      expect(await store.commit({ eventId: 'ev_free', now: 0, jobs: [job('j_free', { lane: 'free' })] })).toEqual({ ok: true });
      await free();
      // The first group was sent whole: the server may still finish it once the lock is free (it does unless it checks
      // for gone clients while waiting). Feishu's second delivery of the push is then a repeat; else it is the push.
      const again = await store.commit({ eventId: 'ev_held', now: 0, jobs: [job('j_held_again', { lane: 'held' })] });
      const landed = await queryRows<{ id: string }>(`SELECT id FROM ${schema}.jobs WHERE lane = 'held'`);
      expect(landed).toEqual([{ id: again.ok ? 'j_held_again' : 'j_held' }]);
      if (!again.ok) expect(again).toEqual({ ok: false, reason: 'duplicate' });
    });

    it('drops the connection of a transaction whose statement got no answer in time, with no ROLLBACK queued behind it', async () => {
      const { schema, store, free } = await quietLane();
      const sent = vi.spyOn(pg.Client.prototype, 'query');
      try {
        // A to-do written with its job: a transaction of several statements, the job's waiting on the lane's lock.
        const stuck = store.commit({ now: 0, todos: [todo('t_held')], jobs: [job('j_held', { lane: 'held' })] }).catch((error: unknown) => error);
        expect(storeFailure(await stuck)).toBe('timeout');
        expect(sent.mock.calls.filter(([statement]) => statement === 'ROLLBACK')).toEqual([]);
      } finally {
        sent.mockRestore();
      }
      expect(await store.commit({ now: 0, todos: [todo('t_free')], jobs: [job('j_free', { lane: 'free' })] })).toEqual({ ok: true });
      await free();
      // The server rolls the first one back once its statement ends and it finds the connection gone.
      await expect
        .poll(() => queryRows(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%${schema}%commit_jobs%'`), {
          timeout: 10_000,
        })
        .toEqual([{ n: 0 }]);
      expect(await queryRows(`SELECT id FROM ${schema}.todos ORDER BY id`)).toEqual([{ id: 't_free' }]);
      expect(await queryRows(`SELECT id FROM ${schema}.jobs ORDER BY id`)).toEqual([{ id: 'j_free' }]);
    });

    it('prunes in batches of a bounded size until nothing old is left', async () => {
      const schema = fresh();
      const store = await open(schema);
      const day = 24 * 60 * 60 * 1000;
      const old = 2 * PRUNE_BATCH + 7;
      await queryRows(`INSERT INTO ${schema}.events (id, seen_at) SELECT 'ev_old_' || i, 0 FROM generate_series(1, $1::int) AS i`, [old]);
      await queryRows(`INSERT INTO ${schema}.events (id, seen_at) VALUES ('ev_new', $1)`, [10 * day]);
      expect(await store.prune(10 * day)).toBe(old);
      expect(await queryRows(`SELECT id FROM ${schema}.events`)).toEqual([{ id: 'ev_new' }]);
    });

    it('keeps its listening connection under TCP keepalive, a probe a minute, as the kernel holds the socket', async (ctx) => {
      const schema = fresh();
      await open(schema);
      const [listener] = await listeningBackends<{ client_port: number | null }>(schema, 'client_port');
      // A store that stopped listening fails here: only a check that cannot be made at all is skipped below.
      expect(listener, 'no backend serves the store’s LISTEN').toBeDefined();
      const port = listener?.client_port ?? 0;
      // The kernel's own table of TCP sockets says which timer each one runs: Linux, and a database reached over TCP.
      if (port === -1) return ctx.skip('the database is reached over a Unix socket, which has no TCP keepalive');
      if (!existsSync('/proc/net/tcp')) return ctx.skip('no /proc/net/tcp (not Linux): the socket’s timer cannot be read');
      const timer = tcpTimer(port);
      expect(timer).toBeDefined();
      // "02": the keepalive timer, due within the minute; an idle socket without keepalive runs none ("00").
      expect(timer?.kind).toBe('02');
      expect(timer?.dueInSeconds).toBeGreaterThan(0);
      expect(timer?.dueInSeconds).toBeLessThanOrEqual(LISTEN_KEEPALIVE_MS / 1000);
    });

    it('reads the tables it keeps growing by key in every function, with the plans a session made while they were new', async () => {
      const schema = fresh();
      await open(schema);
      // No analyze meanwhile: it would have the session plan again, which a busy instance's connection waits long for.
      for (const table of GROWING_TABLES) await queryRows(`ALTER TABLE ${schema}.${table} SET (autovacuum_enabled = false)`);
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        // What a long-lived connection may settle on after five calls: plans made once and kept.
        await client.query('SET plan_cache_mode = force_generic_plan');
        await callEachFunction(client, schema, 'young');
        await growTables(schema, 5_000);
        expect(await callEachFunction(client, schema, 'grown')).toEqual({
          commit_jobs: {},
          commit_budgeted_jobs: {},
          commit_pushes: {},
          claim_jobs: {},
          finish_job: {},
          rate_acquire: {},
        });
        // The control: the same counting sees a scan made on purpose, or the zeros above could mean statistics off, or
        // another view or schema read. Index paths off, so the planner has only the scan.
        for (const path of ['indexscan', 'indexonlyscan', 'bitmapscan']) await client.query(`SET enable_${path} = off`);
        const control = await scansOf(client, schema, `SELECT count(*) FROM ${schema}.jobs WHERE id = 'waiting_1'`);
        expect(control.scans).toEqual({ jobs: 1 });
      } finally {
        await client.end();
      }
    });

    it('does not hear its own commits twice', async () => {
      const schema = fresh();
      const a = await open(schema);
      const b = await open(schema);
      const heardByA = heardBy(a);
      await a.commit({ now: 0, jobs: [job('j1')] });
      await b.commit({ now: 0, todos: [todo('t1', { remindAt: 5_000 })] });
      // Notices arrive in commit order: once A hears B's, its own earlier one has come back too, and was dropped.
      // A's own commit was told at once, B's as made elsewhere.
      await expect.poll(() => heardByA.length, { timeout: 10_000 }).toBe(2);
      expect(heardByA).toEqual([
        { jobs: true, jobChats: ['oc_1'] },
        { jobs: false, dueAt: 5_000, elsewhere: true },
      ]);
    });

    it('tells the other instances of a commit’s jobs only when its outbox says another may take them', async () => {
      const schema = fresh();
      const a = await open(schema);
      const b = await open(schema);
      const heardByA = heardBy(a);
      // Every notice the database sends, as a listener sees it (a notice a store could not read would still wake it).
      const listener = new pg.Client({ connectionString: postgresUrl });
      await listener.connect();
      const notices: string[] = [];
      listener.on('notification', (message) => notices.push(message.payload ?? ''));
      await listener.query(`LISTEN "feishu_todo_${schema}"`);
      const asked: Array<ReadonlyArray<string | undefined>> = [];
      let othersMayTake = false;
      const announceAlways = b.announceJobsWhen((chats) => {
        asked.push(chats);
        return othersMayTake;
      });
      // Kept quiet: a push's jobs (committed in a group), and a to-do's job (a transaction of its own), whose record
      // is still told, for the reminders it may move.
      await b.commit({ now: 0, eventId: 'e1', jobs: [job('j1', { lane: 'l1', chatId: 'oc_1' }), job('j2', { lane: 'l2', chatId: undefined })] });
      await b.commit({ now: 0, todos: [todo('t1', { remindAt: 5_000 })], jobs: [job('j3', { lane: 'l3', chatId: 'oc_2' })] });
      expect(asked).toEqual([['oc_1', undefined], ['oc_2']]);
      await expect.poll(() => heardByA, { timeout: 10_000 }).toEqual([{ jobs: false, dueAt: 5_000, elsewhere: true }]);
      // The to-do's notice came last: none before it.
      await expect.poll(() => notices.some((notice) => notice.includes('"dueAt":5000')), { timeout: 10_000 }).toBe(true);
      expect(notices).toHaveLength(1);
      othersMayTake = true;
      await b.commit({ now: 0, eventId: 'e2', jobs: [job('j4', { lane: 'l4' })] });
      await b.commit({ now: 0, todos: [todo('t2', { remindAt: 6_000 })], jobs: [job('j5', { lane: 'l5' })] });
      await expect.poll(() => heardByA.length, { timeout: 10_000 }).toBe(3);
      expect(heardByA.slice(1)).toEqual([
        { jobs: true, elsewhere: true },
        { jobs: true, dueAt: 6_000, elsewhere: true },
      ]);
      // Once the outbox lets go (it stops), every commit of jobs is told again, without asking.
      othersMayTake = false;
      announceAlways();
      await b.commit({ now: 0, eventId: 'e3', jobs: [job('j6', { lane: 'l6' })] });
      await expect.poll(() => heardByA.length, { timeout: 10_000 }).toBe(4);
      expect(asked).toHaveLength(4);
      await expect.poll(() => notices.length, { timeout: 10_000 }).toBe(4);
      await listener.end();
      // Quiet or told, every job was enqueued.
      expect((await a.claimJobs({ owner: 'a', now: 0, leaseMs: 30_000, max: 10, perChat: 8 })).jobs.map((j) => j.id).sort()).toEqual([
        'j1',
        'j2',
        'j3',
        'j4',
        'j5',
        'j6',
      ]);
    });

    it('runs a transaction again when the database breaks a deadlock by aborting it', async () => {
      const schema = fresh();
      await open(schema);
      const db = new Database({ url: postgresUrl, schema, poolSize: 4 });
      try {
        await db.query(`INSERT INTO ${db.s}.events (id, seen_at) VALUES ('x', 0), ('y', 0)`);
        // Each first attempt holds its first row until the other holds its own: then each wants the other's, always
        // (a sleep in between let a starved machine run one transaction whole before the other began).
        let holding = 0;
        let bothHold!: () => void;
        const bothHolding = new Promise<void>((resolve) => (bothHold = resolve));
        const errors: string[] = [];
        let attempts = 0;
        const both = await Promise.all(
          [
            ['x', 'y'],
            ['y', 'x'],
          ].map(([first, second]) =>
            db.transaction(async (client) => {
              attempts++;
              try {
                await client.query(`UPDATE ${db.s}.events SET seen_at = seen_at + 1 WHERE id = $1`, [first]);
                if (++holding === 2) bothHold();
                await bothHolding;
                await client.query(`UPDATE ${db.s}.events SET seen_at = seen_at + 1 WHERE id = $1`, [second]);
                return 'done';
              } catch (error) {
                errors.push((error as { code?: string }).code ?? String(error));
                throw error;
              }
            }),
          ),
        );
        expect(both).toEqual(['done', 'done']);
        // The database aborted one to break the deadlock (or more, on a starved machine), and each ran again.
        expect(errors).toContain('40P01');
        expect(errors.filter((code) => code !== '40P01')).toEqual([]);
        expect(attempts).toBe(2 + errors.length);
        expect(await queryRows(`SELECT seen_at::int AS n FROM ${db.s}.events ORDER BY id`)).toEqual([{ n: 2 }, { n: 2 }]);
      } finally {
        await db.end();
      }
    });

    it('acknowledges commits before they reach the disk only when told to', async () => {
      const schema = fresh();
      const setting = async (store: PostgresStore) =>
        (await store.database.query<{ value: string }>('SELECT current_setting($1) AS value', ['synchronous_commit'])).rows[0]?.value;
      for (const synchronousCommit of ['off', 'on'] as const) {
        const store = await open(schema, { poolSize: 1, synchronousCommit });
        expect(await setting(store)).toBe(synchronousCommit);
      }
    });

    it('lists a chat’s open to-dos soonest reminder first, then those without one in the order they were made', async () => {
      const store = await open(fresh());
      const todos: Todo[] = [todo('t1', { remindAt: 300 }), todo('t2'), todo('t3', { remindAt: 100 }), todo('t4', { status: 'done', remindAt: 50 })];
      await store.commit({ now: 0, todos });
      expect((await store.openTodos('oc_1')).map((t) => t.id)).toEqual(['t3', 't1', 't2']);
    });
  });
});

describe('opening the PostgreSQL store', () => {
  it('fails with a sentence naming the server and database, never the password', async () => {
    // A port nothing listens on: taken, then given back.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const store = new PostgresStore({ url: `postgres://bot:hunter2@127.0.0.1:${port}/todo`, schema: 'todo_bot' });
    const failure = await store.open().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(StoreOpenError);
    expect(failure?.message).toMatch(new RegExp(`^cannot open the store in PostgreSQL at 127\\.0\\.0\\.1:${port}/todo, schema todo_bot: .*ECONNREFUSED`));
    expect(failure?.message).not.toContain('hunter2');
  });
});

describePostgres('a database user that owns its schema and no more', () => {
  it('opens the store, migrating it, without the right to create schemas in the database', async () => {
    const role = uniqueSchema('owner');
    const schema = uniqueSchema('owned');
    await queryRows(`CREATE ROLE ${role} LOGIN`);
    await queryRows(`CREATE SCHEMA ${schema} AUTHORIZATION ${role}`);
    try {
      const url = new URL(postgresUrl);
      url.username = role;
      url.password = '';
      const [{ allowed } = { allowed: true }] = await queryRows<{ allowed: boolean }>('SELECT has_database_privilege($1, current_database(), $2) AS allowed', [
        role,
        'CREATE',
      ]);
      expect(allowed).toBe(false);
      const store = new PostgresStore({ url: url.toString(), schema, poolSize: 2 });
      await store.open();
      try {
        expect(await store.todo('none')).toBeUndefined();
      } finally {
        await store.close();
      }
    } finally {
      await dropSchema(schema);
      await queryRows(`DROP ROLE ${role}`);
    }
  });
});

/** The tables that grow with use, each read by key by the functions of the migrations. */
const GROWING_TABLES = ['jobs', 'job_steps', 'events', 'command_throttle', 'rate_limits', 'rate_limit_ring'];

/** Adds `rows` rows to each of `GROWING_TABLES`: jobs waiting behind others, seen events, budgets and limits. */
async function growTables(schema: string, rows: number): Promise<void> {
  const s = schema;
  await queryRows(
    `INSERT INTO ${s}.jobs (id, kind, lane, chat_id, payload, run_at, created_at, is_head)
     SELECT 'waiting_' || i, 'k', 'waiting_lane', 'oc_waiting', '{}', 0, 0, i = 1 FROM generate_series(1, $1) i`,
    [rows],
  );
  await queryRows(`INSERT INTO ${s}.job_steps (job_id, name, result) SELECT 'waiting_' || i, 'step', '{}' FROM generate_series(1, $1) i`, [rows]);
  await queryRows(`INSERT INTO ${s}.events (id, seen_at) SELECT 'seen_' || i, 0 FROM generate_series(1, $1) i`, [rows]);
  await queryRows(`INSERT INTO ${s}.command_throttle (key, points, expire) SELECT 'budget_' || i, 1, 0 FROM generate_series(1, $1) i`, [rows]);
  await queryRows(`INSERT INTO ${s}.rate_limits (key, tat, n, last_at) SELECT 'limit_' || i, 0, 1, 0 FROM generate_series(1, $1) i`, [rows]);
  await queryRows(`INSERT INTO ${s}.rate_limit_ring (key, pos, at) SELECT 'limit_' || i, 0, 0 FROM generate_series(1, $1) i`, [rows]);
}

/**
 * Calls each function of the migrations that reads those tables once, as the store calls it, with keys of their own
 * (`round` in each), and answers the sequential scans of the schema's tables each call made, by function and table.
 */
async function callEachFunction(client: pg.Client, schema: string, round: string): Promise<Record<string, Record<string, number>>> {
  const scans: Record<string, Record<string, number>> = {};
  const call = async (name: string, values: unknown[]) => {
    const placeholders = values.map((_, i) => `$${i + 1}`).join(', ');
    const made = await scansOf(client, schema, `SELECT ${schema}.${name}(${placeholders}) AS answer`, values);
    scans[name] = made.scans;
    return made.rows[0]?.answer;
  };
  const lanes = `${schema}:lane:`;
  const notice = ['test_channel', '{}'];
  // A push's event and lane, and its one job's columns (ids, kinds, lanes, chats, payloads, run-at, created-at).
  const push = (n: number) => ({
    event: `${round}_e${n}`,
    lane: `${round}_${n}`,
    job: [[`${round}_j${n}`], ['k'], [`${round}_${n}`], ['oc_1'], ['{}'], [0], [0]],
  });
  const [one, two, three] = [push(1), push(2), push(3)];
  await call('commit_jobs', [one.event, 0, lanes, [one.lane], ...one.job, ...notice]);
  await call('commit_budgeted_jobs', [`${round}_b1`, 10, 60_000, two.event, 0, lanes, [two.lane], ...two.job, ...notice]);
  const budgetedPush = [[`${round}_b2`], [10], [60_000], [three.event], [0], [1], [three.lane], [1]];
  await call('commit_pushes', [[`${round}_b2`], lanes, [three.lane], ...notice, ...budgetedPush, ...three.job]);
  const claimed: { jobs: Array<{ id: string; lane: string; lease_token: string }> } = await call('claim_jobs', [
    '',
    1,
    8,
    `${schema}:chat:`,
    32,
    'test',
    30_000,
  ]);
  const leased = claimed.jobs.find((job) => job.id === `${round}_j1`);
  if (!leased) throw new Error(`the ${round} claim leased no job of its own`);
  await call('finish_job', [leased.id, leased.lease_token, leased.lane, lanes, ...notice]);
  await call('rate_acquire', [[`${round}_spaced`, `${round}_windowed`], [20, null], [null, 60_000], [null, 5], 30_000]);
  return scans;
}

/** `statement`'s rows, and the sequential scans of the schema's tables it made, by table (none: an empty object). */
async function scansOf(
  client: pg.Client,
  schema: string,
  statement: string,
  values: unknown[] = [],
): Promise<{ rows: pg.QueryResultRow[]; scans: Record<string, number> }> {
  // Within one transaction: a session's counts are sent to the statistics (and leave this view) only between them.
  await client.query('BEGIN');
  const before = await seqScans(client, schema);
  const { rows } = await client.query(statement, values);
  const after = await seqScans(client, schema);
  await client.query('COMMIT');
  const scans = Object.fromEntries(Object.entries(after).flatMap(([table, n]) => (n > (before[table] ?? 0) ? [[table, n - (before[table] ?? 0)]] : [])));
  return { rows, scans };
}

/** Sequential scans of each of the schema's tables so far, as this session counts them. */
async function seqScans(client: pg.Client, schema: string): Promise<Record<string, number>> {
  const { rows } = await client.query<{ relname: string; seq_scan: string }>(`SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = $1`, [
    schema,
  ]);
  return Object.fromEntries(rows.map((row) => [row.relname, Number(row.seq_scan)]));
}

/** `columns` of each backend serving a store's listening connection on `schema`'s channel (one per open store). */
function listeningBackends<R extends pg.QueryResultRow>(schema: string, columns: string): Promise<R[]> {
  return queryRows<R>(`SELECT ${columns} FROM pg_stat_activity WHERE query = $1 AND application_name = 'feishu-todo-bot listen'`, [
    `LISTEN "feishu_todo_${schema}"`,
  ]);
}

/**
 * The timer the kernel runs for the TCP socket whose local port is `port` (/proc/net/tcp and tcp6: "tr:tm->when", the
 * timer's kind and the clock ticks, a hundred a second, until it fires).
 */
function tcpTimer(port: number): { kind: string; dueInSeconds: number } | undefined {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (!fields[1]?.endsWith(suffix)) continue;
      const [kind = '', when = '0'] = (fields[5] ?? '').split(':');
      return { kind, dueInSeconds: Number.parseInt(when, 16) / 100 };
    }
  }
  return undefined;
}
