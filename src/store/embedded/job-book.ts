import { randomUUID } from 'node:crypto';
import { type Job, type JobClaim, type Lease, LeaseLost, type NewJob } from '../store';
import { JobQueues } from './job-queues';
import type { RecordStore } from './records';

/**
 * The embedded store's jobs: the records themselves live in the record store; this keeps what is derived from them
 * (lanes in enqueue order, the retry count) and what is never written down: leases. One process runs every job, so a
 * lease is held in memory and a restart starts with none. Every method changes state synchronously; the store makes
 * the changes durable and tells its listeners.
 */
export class JobBook {
  private readonly queues = new JobQueues();
  private readonly leases = new Map<string, Lease & { chatId?: string | undefined }>();
  /** Jobs that failed at least once and wait for their next attempt, counted for the metrics. */
  private readonly retrying = new Set<string>();
  private seq = 0;

  constructor(private readonly records: RecordStore) {}

  /** Indexes a job read back from disk or imported (never with a lease). */
  index(job: Job): void {
    this.seq = Math.max(this.seq, job.seq);
    this.queues.add(job.chatId, job.lane, job.id);
    if (job.attempts > 0) this.retrying.add(job.id);
  }

  /** Stages a new job unless one with its id is pending; says whether it did. */
  enqueue(job: NewJob): boolean {
    if (this.records.get('jobs', job.id) !== undefined) return false;
    // Built field by field: on every push, and `{ ...job, v, seq, … }` costs V8 about 8 µs (properties added after
    // a spread reshape the copy one by one), 10 times this.
    const { id, kind, lane, chatId, payload, runAt, createdAt } = job;
    const stored: Job = { id, kind, lane, chatId, seq: ++this.seq, payload, steps: {}, attempts: 0, runAt, createdAt };
    this.records.put('jobs', id, stored);
    this.queues.add(chatId, lane, id);
    return true;
  }

  claim(claim: JobClaim): { jobs: Job[]; nextRunAt?: number } {
    const wallNow = Date.now();
    const leasedPerChat = new Map<string, number>();
    for (const lease of this.leases.values()) {
      if (lease.chatId !== undefined && lease.until > wallNow) leasedPerChat.set(lease.chatId, (leasedPerChat.get(lease.chatId) ?? 0) + 1);
    }
    const jobs: Job[] = [];
    let nextRunAt = Number.POSITIVE_INFINITY;
    for (const [chatId, heads] of this.queues.chats()) {
      if (jobs.length >= claim.max) break;
      let leased = chatId === undefined ? 0 : (leasedPerChat.get(chatId) ?? 0);
      for (const [, id] of heads) {
        if (jobs.length >= claim.max || (chatId !== undefined && leased >= claim.perChat)) break;
        const held = this.leases.get(id);
        if (held && held.until > wallNow) continue;
        const job = this.records.get<Job>('jobs', id);
        if (!job) continue;
        if (job.runAt > claim.now) {
          nextRunAt = Math.min(nextRunAt, job.runAt);
          continue;
        }
        const lease: Lease = { owner: claim.owner, token: randomUUID(), until: wallNow + claim.leaseMs };
        this.leases.set(id, { ...lease, chatId: job.chatId });
        leased++;
        jobs.push({ ...job, lease });
      }
    }
    return Number.isFinite(nextRunAt) ? { jobs, nextRunAt } : { jobs };
  }

  renew(jobs: readonly Job[], leaseMs: number): string[] {
    const until = Date.now() + leaseMs;
    return jobs.flatMap((job) => {
      const lease = this.holds(job) ? this.leases.get(job.id) : undefined;
      if (!lease) return [];
      lease.until = until;
      return [job.id];
    });
  }

  /** Whether `job` (as handed out) still holds its lease. */
  holds(job: Job): boolean {
    const lease = this.leases.get(job.id);
    return lease !== undefined && lease.token === job.lease?.token && lease.until > Date.now() && this.records.get('jobs', job.id) !== undefined;
  }

  recordStep(job: Job, name: string, result: unknown): void {
    const stored = this.held(job);
    this.records.put('jobs', job.id, { ...stored, steps: { ...stored.steps, [name]: result ?? null } });
  }

  finish(job: Job): void {
    const stored = this.held(job);
    this.leases.delete(job.id);
    this.retrying.delete(job.id);
    this.queues.remove(stored.chatId, stored.lane, stored.id);
    this.records.delete('jobs', job.id);
  }

  retry(job: Job, runAt: number, error: string, attempted: boolean): void {
    const stored = this.held(job);
    this.leases.delete(job.id);
    this.records.put('jobs', job.id, { ...stored, attempts: stored.attempts + (attempted ? 1 : 0), runAt, lastError: error });
    this.retrying.add(job.id);
  }

  release(owner: string): void {
    for (const [id, lease] of this.leases) if (lease.owner === owner) this.leases.delete(id);
  }

  releaseAll(): void {
    this.leases.clear();
  }

  /** A job as stored, with its lease when one is held. */
  get(id: string): Job | undefined {
    const job = this.records.get<Job>('jobs', id);
    const lease = this.leases.get(id);
    return job && lease ? { ...job, lease: { owner: lease.owner, token: lease.token, until: lease.until } } : job;
  }

  counts(): { running: number; retrying: number } {
    const wallNow = Date.now();
    return { running: [...this.leases.values()].filter((lease) => lease.until > wallNow).length, retrying: this.retrying.size };
  }

  private held(job: Job): Job {
    if (!this.holds(job)) throw new LeaseLost(job.id);
    return this.records.get<Job>('jobs', job.id) as Job;
  }
}
