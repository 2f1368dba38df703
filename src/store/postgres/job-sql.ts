import type { Job } from '../store';
import type { Statement } from './database';

/**
 * The outbox's SQL. A lane's first job is its head (`is_head`); enqueuing into a lane and finishing its head take
 * the lane's advisory lock (`commit_jobs`, migration 0005, in every commit that enqueues; `finish_job`, migration
 * 0006), in a statement before the one that reads the lane, so that the read sees whatever the previous holder
 * committed: a lane never has two heads, nor none. A claim is `claim_jobs` (migration 0006, where its rules are).
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
  /** A timestamp from a row; milliseconds from `claim_jobs`, which answers in JSON. */
  lease_until: Date | number | null;
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
    job.lease = { owner: row.lease_owner, token: row.lease_token, until: Number(row.lease_until) };
  }
  return job;
}

/** A job's columns and its steps as one object, for statements returning jobs. */
const jobColumns = (s: string, alias: string) =>
  `${alias}.*, (SELECT json_object_agg(st.name, st.result) FROM ${s}.job_steps st WHERE st.job_id = ${alias}.id) AS steps`;

/** The lease of `$1` (id) and `$2` (token) is still this holder's and still live (for `margin` more, at least). */
const holds = (alias: string, margin = '0 seconds') =>
  `${alias}.id = $1 AND ${alias}.lease_token = $2::uuid AND ${alias}.lease_until > statement_timestamp() + interval '${margin}'`;
/**
 * A step is recorded only with a second of its lease left. A claim reads a job's steps in the statement that takes
 * the job, which begins only once the lease has run out: a step recorded (locking the job's row, so the claim skips
 * the job meanwhile) and committed just as that statement began would be missed by it, and done again. With the
 * margin, that would take a step's one-row insert a second between its start and its commit.
 */
const STEP_MARGIN = '1 second';

/** The advisory lock key of a lane is `hashtextextended(<prefix> || lane, 0)`, of a chat likewise: one space per schema. */
export const laneKeyPrefix = (schema: string) => `${schema}:lane:`;
export const chatKeyPrefix = (schema: string) => `${schema}:chat:`;

export function jobStatements(s: string) {
  const statement = (name: string, text: string): Statement => ({ name: `jobs.${name}`, text });
  return {
    /** $1 id, $2 token: locks the job's row against a claim until the commit ends. */
    holdsForCommit: statement('holdsForCommit', `SELECT 1 FROM ${s}.jobs j WHERE ${holds('j')} FOR SHARE`),
    /** $1 cursor, $2 now, $3 per chat, $4 chat key prefix, $5 max, $6 owner, $7 lease ms: `{chats, jobs, next}`. */
    claim: statement('claim', `SELECT ${s}.claim_jobs($1, $2, $3, $4, $5, $6, $7) AS claimed`),
    /** $1 ids, $2 their tokens, $3 lease ms: a lease is renewed only by its token, and only while it is live. */
    renew: statement(
      'renew',
      `UPDATE ${s}.jobs j SET lease_until = statement_timestamp() + $3 * interval '1 millisecond'
       FROM unnest($1::text[], $2::uuid[]) AS l(id, token)
       WHERE j.id = l.id AND j.lease_token = l.token AND j.lease_until > statement_timestamp() RETURNING j.id`,
    ),
    /** $1 id, $2 token, $3 step name, $4 result: see `STEP_MARGIN`. */
    recordStep: statement(
      'recordStep',
      `INSERT INTO ${s}.job_steps (job_id, name, result)
       SELECT j.id, $3, $4::json FROM ${s}.jobs j WHERE ${holds('j', STEP_MARGIN)} FOR SHARE
       ON CONFLICT (job_id, name) DO UPDATE SET result = EXCLUDED.result`,
    ),
    /** $1 id, $2 token, $3 lane, $4 lane key prefix, $5 channel, $6 notice: whether the job was removed. */
    finish: statement('finish', `SELECT ${s}.finish_job($1, $2, $3, $4, $5, $6) AS finished`),
    /** $1 id, $2 token, $3 run at, $4 error, $5 channel, $6 notice, $7 the attempts it adds (0 for a job parked). */
    retry: statement(
      'retry',
      `WITH released AS (
         UPDATE ${s}.jobs j SET attempts = attempts + $7::int, run_at = $3, last_error = $4, lease_owner = NULL, lease_token = NULL, lease_until = NULL
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
