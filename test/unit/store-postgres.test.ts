import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Todo } from '../../src/domain/model';
import { Database } from '../../src/store/postgres/database';
import { MIGRATIONS_DIR } from '../../src/store/postgres/migrate';
import { PostgresStore } from '../../src/store/postgres/postgres-store';
import { StoreOpenError } from '../../src/store/postgres/settings';
import type { Committed, Job } from '../../src/store/store';
import { job, storeContract, todo } from '../store.contract';
import { describePostgres, dropSchema, openPostgresStore, postgresUrl, queryRows, uniqueSchema } from '../support/postgres';

describePostgres('the PostgreSQL store', () => {
  storeContract('postgres', { shared: true, durable: true }, async () => {
    const schema = uniqueSchema('contract');
    return { open: () => openPostgresStore(schema), cleanup: () => dropSchema(schema) };
  });

  describe('on its own', () => {
    const stores: PostgresStore[] = [];
    const schemas: string[] = [];
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      for (const schema of schemas.splice(0)) await dropSchema(schema);
    });
    const fresh = () => {
      const schema = uniqueSchema('pg');
      schemas.push(schema);
      return schema;
    };
    const open = async (schema: string) => {
      const store = await openPostgresStore(schema);
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
      const heard: Committed[] = [];
      a.onCommitted((committed) => heard.push(committed));
      const dropped = await queryRows<{ dropped: boolean }>(
        `SELECT pg_terminate_backend(pid) AS dropped FROM pg_stat_activity WHERE query = $1 AND application_name = 'feishu-todo-bot listen'`,
        [`LISTEN "feishu_todo_${schema}"`],
      );
      // Both instances listen on the schema's channel: both connections were dropped.
      expect(dropped).toHaveLength(2);
      await expect.poll(() => heard.some((c) => c.jobs && c.due), { timeout: 10_000 }).toBe(true);
      heard.length = 0;
      await b.commit({ now: 0, todos: [todo('t1')] });
      await expect.poll(() => heard, { timeout: 10_000 }).toContainEqual({ jobs: false, due: true, elsewhere: true });
    });

    it('checks a commit’s jobs for duplicates by their key, not by reading every job, in a session that plans generically', async () => {
      const schema = fresh();
      await open(schema);
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query('BEGIN');
        // What a long-lived connection may settle on after five calls: plans made once, from a new table's statistics.
        await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
        const lanes = ['oc_1'];
        const args = ['e1', 0, `${schema}:lane:`, lanes, ['j1'], ['k'], lanes, lanes, ['{}'], [0], [0], 'test_channel', '{}'];
        await client.query(`SELECT ${schema}.commit_jobs($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, args);
        const scans = await client.query(`SELECT seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = 'jobs'`, [schema]);
        expect(scans.rows).toEqual([{ seq_scan: '0' }]);
      } finally {
        await client.end();
      }
    });

    it('does not hear its own commits twice', async () => {
      const schema = fresh();
      const a = await open(schema);
      const b = await open(schema);
      const heardByA: Committed[] = [];
      a.onCommitted((committed) => heardByA.push(committed));
      await a.commit({ now: 0, jobs: [job('j1')] });
      await b.commit({ now: 0, todos: [todo('t1')] });
      // Notices arrive in commit order: once A hears B's, its own earlier one has come back too, and was dropped.
      // A's own commit was told at once, B's as made elsewhere.
      await expect.poll(() => heardByA.length, { timeout: 10_000 }).toBe(2);
      expect(heardByA).toEqual([
        { jobs: true, due: false, jobChats: ['oc_1'] },
        { jobs: false, due: true, elsewhere: true },
      ]);
    });

    it('runs a transaction again when the database breaks a deadlock by aborting it', async () => {
      const schema = fresh();
      await open(schema);
      const db = new Database({ url: postgresUrl, schema, poolSize: 4 });
      try {
        await db.query(`INSERT INTO ${db.s}.events (id, seen_at) VALUES ('x', 0), ('y', 0)`);
        let attempts = 0;
        const both = await Promise.all(
          [
            ['x', 'y'],
            ['y', 'x'],
          ].map(([first, second]) =>
            db.transaction(async (client) => {
              attempts++;
              await client.query(`UPDATE ${db.s}.events SET seen_at = seen_at + 1 WHERE id = $1`, [first]);
              await client.query('SELECT pg_sleep(0.1)');
              await client.query(`UPDATE ${db.s}.events SET seen_at = seen_at + 1 WHERE id = $1`, [second]);
              return 'done';
            }),
          ),
        );
        expect(both).toEqual(['done', 'done']);
        expect(attempts).toBe(3);
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
        const store = new PostgresStore({ url: postgresUrl, schema, poolSize: 1, synchronousCommit });
        stores.push(store);
        await store.open();
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
