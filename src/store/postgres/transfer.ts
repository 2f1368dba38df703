import type pg from 'pg';
import type { ChatSettings, Todo, TodoForm } from '../../domain/model';
import type { ExportedRecord, Job } from '../store';
import type { Database } from './database';
import { type JobRow, toJob } from './job-sql';
import { type RecordCollection, recordStatements, writeValues } from './record-sql';

/**
 * `npm run store -- export|import` for PostgreSQL: the same lines as the file store's, read in pages (keyset, so a
 * large store is never held in memory) and written in one transaction into a store that holds nothing yet.
 */

const PAGE = 1_000;

export async function* exportRecords(db: Database): AsyncIterable<ExportedRecord> {
  const s = db.s;
  // Keyed by creation order where the store has one, so an import rebuilds the same order.
  const pages: Array<[ExportedRecord['collection'], string, string]> = [
    ['chats', `SELECT id AS key, id AS after, record AS value FROM ${s}.chats WHERE id > $1 ORDER BY id LIMIT ${PAGE}`, ''],
    ['forms', `SELECT id AS key, id AS after, record AS value FROM ${s}.forms WHERE id > $1 ORDER BY id LIMIT ${PAGE}`, ''],
    ['todos', `SELECT id AS key, seq::text AS after, record AS value FROM ${s}.todos WHERE seq > $1::bigint ORDER BY seq LIMIT ${PAGE}`, '0'],
    ['events', `SELECT id AS key, id AS after, seen_at AS value FROM ${s}.events WHERE id > $1 ORDER BY id LIMIT ${PAGE}`, ''],
    [
      'jobs',
      `SELECT j.id AS key, j.seq::text AS after, j.*, (SELECT json_object_agg(st.name, st.result) FROM ${s}.job_steps st WHERE st.job_id = j.id) AS steps
       FROM ${s}.jobs j WHERE j.seq > $1::bigint ORDER BY j.seq LIMIT ${PAGE}`,
      '0',
    ],
  ];
  for (const [collection, text, start] of pages) {
    for (let after = start; ; ) {
      const { rows } = await db.query<{ key: string; after: string; value: unknown }>(text, [after]);
      for (const row of rows) {
        const value = collection === 'jobs' ? toJob(row as unknown as JobRow, false) : collection === 'events' ? Number(row.value) : row.value;
        yield { collection, key: row.key, value };
      }
      if (rows.length < PAGE) break;
      after = (rows[rows.length - 1] as { after: string }).after;
    }
  }
}

export async function importRecords(db: Database, records: AsyncIterable<ExportedRecord>): Promise<number> {
  const s = db.s;
  const writes = recordStatements(s).writes;
  // The records are read as they are written: a failed attempt cannot be replayed, so none is retried.
  return db.transaction(
    async (client) => {
      // Blocks every other writer until the import commits, so "empty" stays true while it runs.
      await client.query(`LOCK TABLE ${s}.forms, ${s}.todos, ${s}.chats, ${s}.jobs, ${s}.events IN SHARE ROW EXCLUSIVE MODE`);
      const held = await client.query(
        `SELECT EXISTS (SELECT 1 FROM ${s}.forms) OR EXISTS (SELECT 1 FROM ${s}.todos) OR EXISTS (SELECT 1 FROM ${s}.chats) OR EXISTS (SELECT 1 FROM ${s}.jobs) AS held`,
      );
      if (held.rows[0]?.held) throw new Error('the store already holds data; import only into an empty store');
      let count = 0;
      for await (const { collection, key, value } of records) {
        if (collection === 'events') await client.query(`INSERT INTO ${s}.events (id, seen_at) VALUES ($1, $2)`, [key, value]);
        else if (collection === 'jobs') await insertJob(client, s, value as Job);
        else await insertRecord(client, writes[collection].insert, collection, value as TodoForm | Todo | ChatSettings);
        count++;
      }
      // Each lane's first job is its head; enqueues after the import continue the imported order.
      await client.query(`UPDATE ${s}.jobs SET is_head = id IN (SELECT DISTINCT ON (lane) id FROM ${s}.jobs ORDER BY lane, seq)`);
      await client.query(`SELECT setval(pg_get_serial_sequence('${s}.jobs', 'seq'), greatest((SELECT max(seq) FROM ${s}.jobs), 1))`);
      return count;
    },
    { retry: false },
  );
}

async function insertRecord(
  client: pg.PoolClient,
  insert: { name: string; text: string },
  collection: RecordCollection,
  record: TodoForm | Todo | ChatSettings,
) {
  // A record written before revisions existed is revision 0, so the bot's next change of it can name the one it read.
  await client.query({ ...insert, values: writeValues(collection, { ...record, rev: record.rev ?? 0 }) });
}

async function insertJob(client: pg.PoolClient, s: string, job: Job) {
  await client.query(
    `INSERT INTO ${s}.jobs (id, seq, kind, lane, chat_id, payload, attempts, run_at, created_at, last_error, is_head)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, false)`,
    [
      job.id,
      job.seq,
      job.kind,
      job.lane,
      job.chatId ?? null,
      JSON.stringify(job.payload ?? null),
      job.attempts,
      job.runAt,
      job.createdAt,
      job.lastError ?? null,
    ],
  );
  for (const [name, result] of Object.entries(job.steps ?? {})) {
    await client.query(`INSERT INTO ${s}.job_steps (job_id, name, result) VALUES ($1, $2, $3)`, [job.id, name, JSON.stringify(result ?? null)]);
  }
}
