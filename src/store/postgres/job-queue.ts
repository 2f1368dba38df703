import type pg from 'pg';
import { type Committed, type Job, type JobClaim, LeaseLost, type NewJob } from '../store';
import type { CommitChannel } from './commit-channel';
import type { Database } from './database';
import { type JobRow, type JobStatements, chatKeyPrefix, jobStatements, laneKeyPrefix, toJob } from './job-sql';

/**
 * The outbox's half of the PostgreSQL store: jobs enqueued inside commits, leased to instances by `claim`, and
 * finished, retried or released by the lease holder. Leases run on the database's clock, the one clock every
 * instance shares. Finishing, retrying and releasing notify the other instances: each can make a lane runnable.
 */
export class PostgresJobs {
  private readonly sql: JobStatements;
  private readonly laneKey: string;
  private readonly chatKey: string;
  /** Where the next claim starts walking the chats: after the last one this instance served, so chats take turns. */
  private cursor = '';
  /** Owners this instance claimed for: their leases are released when it closes. */
  readonly owners = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly channel: CommitChannel,
    private readonly emit: (committed: Committed) => void,
  ) {
    this.sql = jobStatements(db.s);
    this.laneKey = laneKeyPrefix(db.schema);
    this.chatKey = chatKeyPrefix(db.schema);
  }

  /** Inside a commit: whether `job` still holds its lease; its row stays locked against a claim until the commit ends. */
  async holds(client: pg.PoolClient, job: Job): Promise<boolean> {
    const token = leaseToken(job);
    return token !== undefined && (await this.db.query(this.sql.holdsForCommit, [job.id, token], client)).rowCount === 1;
  }

  async claim(claim: JobClaim): Promise<{ jobs: Job[]; nextRunAt?: number }> {
    this.owners.add(claim.owner);
    const args = [this.cursor, claim.now, claim.perChat, this.chatKey, claim.max, claim.owner, claim.leaseMs];
    const { claimed } = (await this.db.queryRetried<{ claimed: { chats: string[]; jobs: JobRow[]; next: number | null } }>(this.sql.claim, args)).rows[0] ?? {};
    if (!claimed) return { jobs: [] };
    if (claimed.chats.length > 0) this.cursor = claimed.chats[claimed.chats.length - 1] as string;
    const jobs = claimed.jobs.map((row) => toJob(row)).sort((a, b) => a.runAt - b.runAt || a.seq - b.seq);
    return claimed.next === null ? { jobs } : { jobs, nextRunAt: Number(claimed.next) };
  }

  /** On a connection of its own, so that a renewal never waits behind ordinary work for one of the pool's. */
  async renew(jobs: readonly Job[], leaseMs: number): Promise<string[]> {
    const leased = jobs.flatMap((job) => {
      const token = leaseToken(job);
      return token === undefined ? [] : [{ id: job.id, token }];
    });
    if (leased.length === 0) return [];
    const args = [leased.map((lease) => lease.id), leased.map((lease) => lease.token), leaseMs];
    const renewed = await this.db.queryRetried<{ id: string }>(this.sql.renew, args, this.db.leasePool);
    return renewed.rows.map((row) => row.id);
  }

  async recordStep(job: Job, name: string, result: unknown): Promise<void> {
    const token = heldToken(job);
    const recorded = await this.db.queryRetried(this.sql.recordStep, [job.id, token, name, JSON.stringify(result ?? null)]);
    if (recorded.rowCount !== 1) throw new LeaseLost(job.id);
  }

  async finish(job: Job): Promise<void> {
    const token = heldToken(job);
    const args = [job.id, token, job.lane, this.laneKey, this.channel.name, this.notice()];
    const finished = (await this.db.queryRetried<{ finished: boolean }>(this.sql.finish, args)).rows[0]?.finished === true;
    if (!finished) throw new LeaseLost(job.id);
    this.emit({ jobs: true });
  }

  async retry(job: Job, runAt: number, error: string, attempted: boolean): Promise<void> {
    const token = heldToken(job);
    // A NUL cannot be stored in a text column; an error message may quote anything.
    const retried = await this.db.queryRetried(this.sql.retry, [
      job.id,
      token,
      runAt,
      error.replaceAll('\0', '\uFFFD'),
      this.channel.name,
      this.notice(),
      attempted ? 1 : 0,
    ]);
    if (retried.rowCount !== 1) throw new LeaseLost(job.id);
    this.emit({ jobs: true });
  }

  async release(owner: string): Promise<void> {
    await this.db.queryRetried(this.sql.release, [owner, this.channel.name, this.notice()]);
    this.emit({ jobs: true });
  }

  async job(id: string): Promise<Job | undefined> {
    const found = await this.db.query<JobRow>(this.sql.job, [id]);
    return found.rows[0] && toJob(found.rows[0]);
  }

  private notice(): string {
    return this.channel.notice({ jobs: true });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The token of the job's lease, unless it has none (or one this store never gave). */
function leaseToken(job: Job): string | undefined {
  return job.lease && UUID.test(job.lease.token) ? job.lease.token : undefined;
}

/** The token of the job's lease; a job without one has lost it. */
function heldToken(job: Job): string {
  const token = leaseToken(job);
  if (token === undefined) throw new LeaseLost(job.id);
  return token;
}

/** New jobs as the columns `commit_jobs` (migration 0005) takes them: ids, kinds, lanes, chats, payloads, run-at, created-at. */
export function newJobArrays(jobs: readonly NewJob[]): unknown[][] {
  return [
    jobs.map((job) => job.id),
    jobs.map((job) => job.kind),
    jobs.map((job) => job.lane),
    jobs.map((job) => job.chatId ?? null),
    jobs.map((job) => JSON.stringify(job.payload ?? null)),
    jobs.map((job) => job.runAt),
    jobs.map((job) => job.createdAt),
  ];
}
