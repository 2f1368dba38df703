import type { Job } from '../store';
import type { Statement } from './database';

/**
 * The outbox's SQL. A lane's first job is its head (`is_head`); enqueuing into a lane and finishing its head take
 * the lane's advisory lock (`commit_jobs`, migration 0005, in every commit that enqueues; `laneLock` before a finish),
 * in a statement before the one that reads the lane, so that the read sees whatever the previous holder committed: a
 * lane never has two heads, nor none.
 *
 * A claim runs in one transaction: `lockChats` walks the chats that have heads (a skip scan, one index probe per
 * chat, starting after the chat the last claim of this instance ended on, so chats take turns) and takes the
 * transaction lock of each chat that has a runnable head and room under the cap, skipping chats another claim holds;
 * `leaseHeads` then counts each locked chat's live leases afresh and leases its runnable heads, oldest first, up to
 * the room left, taking each chat's first job before any chat's second (at most `max` chats are locked, so each gets
 * one). No other claim can lease jobs of those chats until this one commits, so the cap holds across instances; a
 * chat whose room was used up meanwhile just yields nothing.
 */

export interface JobRow {
  id: string;
  kind: string;
  lane: string;
  chat_id: string | null;
  seq: string;
  payload: unknown;
  steps: Record<string, unknown> | null;
  attempts: number;
  run_at: string;
  created_at: string;
  last_error: string | null;
  lease_owner: string | null;
  lease_token: string | null;
  lease_until: Date | null;
}

export function toJob(row: JobRow, withLease = true): Job {
  const job: Job = {
    id: row.id,
    kind: row.kind,
    lane: row.lane,
    ...(row.chat_id !== null && { chatId: row.chat_id }),
    seq: Number(row.seq),
    payload: row.payload,
    steps: row.steps ?? {},
    attempts: row.attempts,
    runAt: Number(row.run_at),
    createdAt: Number(row.created_at),
    ...(row.last_error !== null && { lastError: row.last_error }),
  };
  if (withLease && row.lease_token !== null && row.lease_owner !== null && row.lease_until !== null) {
    job.lease = { owner: row.lease_owner, token: row.lease_token, until: row.lease_until.getTime() };
  }
  return job;
}

/** A job's columns and its steps as one object, for statements returning jobs. */
const jobColumns = (s: string, alias: string) =>
  `${alias}.*, (SELECT json_object_agg(st.name, st.result) FROM ${s}.job_steps st WHERE st.job_id = ${alias}.id) AS steps`;

/** The lease of `$1` (id) and `$2` (token) is still this holder's and still live. */
const holds = (alias: string) => `${alias}.id = $1 AND ${alias}.lease_token = $2::uuid AND ${alias}.lease_until > statement_timestamp()`;

/** A head that no live lease holds. */
const unleased = (alias: string) => `(${alias}.lease_until IS NULL OR ${alias}.lease_until <= statement_timestamp())`;

/** The advisory lock key of a lane is `hashtextextended(<prefix> || lane, 0)`, of a chat likewise: one space per schema. */
export const laneKeyPrefix = (schema: string) => `${schema}:lane:`;
export const chatKeyPrefix = (schema: string) => `${schema}:chat:`;

export function jobStatements(s: string) {
  const statement = (name: string, text: string): Statement => ({ name: `jobs.${name}`, text });
  return {
    /** $1 lane, $2 key prefix. */
    laneLock: statement('laneLock', `SELECT pg_advisory_xact_lock(hashtextextended($2 || $1, 0))`),
    /** $1 id, $2 token: locks the job's row against a claim until the commit ends. */
    holdsForCommit: statement('holdsForCommit', `SELECT 1 FROM ${s}.jobs j WHERE ${holds('j')} FOR SHARE`),
    /** $1 cursor, $2 now, $3 per chat, $4 key prefix, $5 max: the chats locked for this claim. */
    lockChats: statement(
      'lockChats',
      `WITH RECURSIVE later(chat_id) AS (
         (SELECT chat_id FROM ${s}.jobs WHERE is_head AND chat_id > $1 ORDER BY chat_id LIMIT 1)
         UNION ALL
         SELECT (SELECT j.chat_id FROM ${s}.jobs j WHERE j.is_head AND j.chat_id > c.chat_id ORDER BY j.chat_id LIMIT 1)
         FROM later c WHERE c.chat_id IS NOT NULL
       ), earlier(chat_id) AS (
         (SELECT chat_id FROM ${s}.jobs WHERE is_head AND chat_id <= $1 ORDER BY chat_id LIMIT 1)
         UNION ALL
         SELECT (SELECT j.chat_id FROM ${s}.jobs j WHERE j.is_head AND j.chat_id > c.chat_id AND j.chat_id <= $1 ORDER BY j.chat_id LIMIT 1)
         FROM earlier c WHERE c.chat_id IS NOT NULL
       ), chats AS (
         SELECT chat_id FROM later WHERE chat_id IS NOT NULL
         UNION ALL
         SELECT chat_id FROM earlier WHERE chat_id IS NOT NULL
       )
       SELECT c.chat_id FROM chats c
       WHERE CASE
         WHEN (SELECT h.run_at FROM ${s}.jobs h WHERE h.is_head AND h.chat_id = c.chat_id AND ${unleased('h')} ORDER BY h.run_at, h.seq LIMIT 1) <= $2
          AND (SELECT count(*) FROM ${s}.jobs l WHERE l.chat_id = c.chat_id AND l.lease_token IS NOT NULL AND l.lease_until > statement_timestamp()) < $3
         THEN pg_try_advisory_xact_lock(hashtextextended($4 || c.chat_id, 0))
         ELSE false END
       LIMIT $5`,
    ),
    /** $1 locked chats, $2 now, $3 per chat, $4 max, $5 owner, $6 lease ms: the jobs leased. */
    leaseHeads: statement(
      'leaseHeads',
      `WITH candidates AS (
         SELECT h.id, h.run_at, h.seq, row_number() OVER (PARTITION BY c.chat_id ORDER BY h.run_at, h.seq) AS turn
         FROM unnest($1::text[]) AS c(chat_id)
         CROSS JOIN LATERAL (
           SELECT $3::int - count(*)::int AS room FROM ${s}.jobs l
           WHERE l.chat_id = c.chat_id AND l.lease_token IS NOT NULL AND l.lease_until > statement_timestamp()
         ) r
         CROSS JOIN LATERAL (
           SELECT id, run_at, seq FROM ${s}.jobs h
           WHERE h.is_head AND h.chat_id = c.chat_id AND h.run_at <= $2 AND ${unleased('h')}
           ORDER BY h.run_at, h.seq LIMIT greatest(r.room, 0)
           FOR UPDATE SKIP LOCKED
         ) h
         UNION ALL
         SELECT n.id, n.run_at, n.seq, row_number() OVER (ORDER BY n.run_at, n.seq) FROM (
           SELECT id, run_at, seq FROM ${s}.jobs h
           WHERE h.is_head AND h.chat_id IS NULL AND h.run_at <= $2 AND ${unleased('h')}
           ORDER BY h.run_at, h.seq LIMIT $4
           FOR UPDATE SKIP LOCKED
         ) n
       ), picked AS (SELECT id FROM candidates ORDER BY turn, run_at, seq LIMIT $4)
       UPDATE ${s}.jobs j
       SET lease_owner = $5, lease_token = gen_random_uuid(), lease_until = statement_timestamp() + $6 * interval '1 millisecond'
       WHERE j.id = ANY (ARRAY(SELECT id FROM picked))
       RETURNING ${jobColumns(s, 'j')}`,
    ),
    /** $1 now: when the earliest head not yet due becomes runnable. */
    nextRunAt: statement('nextRunAt', `SELECT min(run_at) AS at FROM ${s}.jobs WHERE is_head AND run_at > $1`),
    /** $1 owner, $2 ids, $3 lease ms. */
    renew: statement(
      'renew',
      `UPDATE ${s}.jobs SET lease_until = statement_timestamp() + $3 * interval '1 millisecond'
       WHERE id = ANY($2::text[]) AND lease_owner = $1 AND lease_token IS NOT NULL RETURNING id`,
    ),
    /** $1 id, $2 token, $3 step name, $4 result. */
    recordStep: statement(
      'recordStep',
      `INSERT INTO ${s}.job_steps (job_id, name, result)
       SELECT j.id, $3, $4::json FROM ${s}.jobs j WHERE ${holds('j')}
       ON CONFLICT (job_id, name) DO UPDATE SET result = EXCLUDED.result`,
    ),
    /** $1 id, $2 token, $3 channel, $4 notice: removes the job and makes the next of its lane the head. */
    finish: statement(
      'finish',
      `WITH gone AS (DELETE FROM ${s}.jobs j WHERE ${holds('j')} RETURNING j.lane),
       next AS (
         UPDATE ${s}.jobs SET is_head = true
         WHERE id = (SELECT n.id FROM ${s}.jobs n, gone g WHERE n.lane = g.lane AND n.id <> $1 ORDER BY n.seq LIMIT 1)
       )
       SELECT pg_notify($3, $4) FROM gone`,
    ),
    /** $1 id, $2 token, $3 run at, $4 error, $5 channel, $6 notice. */
    retry: statement(
      'retry',
      `WITH released AS (
         UPDATE ${s}.jobs j SET attempts = attempts + 1, run_at = $3, last_error = $4, lease_owner = NULL, lease_token = NULL, lease_until = NULL
         WHERE ${holds('j')} RETURNING 1
       )
       SELECT pg_notify($5, $6) FROM released`,
    ),
    /** $1 owner, $2 channel, $3 notice. */
    release: statement(
      'release',
      `WITH released AS (
         UPDATE ${s}.jobs SET lease_owner = NULL, lease_token = NULL, lease_until = NULL WHERE lease_owner = $1 AND lease_token IS NOT NULL RETURNING 1
       )
       SELECT pg_notify($2, $3) WHERE EXISTS (SELECT 1 FROM released)`,
    ),
    /** $1 id. */
    job: statement('job', `SELECT ${jobColumns(s, 'j')} FROM ${s}.jobs j WHERE j.id = $1`),
  };
}

export type JobStatements = ReturnType<typeof jobStatements>;
