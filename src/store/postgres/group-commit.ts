import type { Budget, NewJob } from '../store';
import { type Database, type Statement, retried } from './database';
import { newJobArrays } from './job-queue';

/**
 * The pushes' commits, grouped: a push (an event id, its jobs, maybe a budget; no record read or written) waits for
 * the group under way to be committed, then goes with every other push that arrived meanwhile in one statement
 * (`commit_pushes`, migration 0011), which decides each as if alone. Under load a statement then carries many pushes:
 * its round trip, the driver's work on both sides and the event loop's wake-ups are shared, as the file store shares
 * one append among the commits of a tick. An idle instance commits a push at once, alone. A push is answered when its
 * group's transaction has committed, as before; a group that fails fails each of its pushes.
 */

export interface Push {
  eventId?: string | undefined;
  now: number;
  jobs: readonly NewJob[];
  /** The jobs' lanes, sorted. */
  lanes: readonly string[];
  budget?: Budget | undefined;
}

/** Pushes in one statement at most (its parameters and its time in the database stay small). */
const GROUP_SIZE = 100;

interface Waiting {
  push: Push;
  resolve: (answer: number) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private waiting: Waiting[] = [];
  /** One group is committed at a time, while the next gathers (two or three at once gained nothing, bench/README.md). */
  private committing = false;
  private flushScheduled = false;

  constructor(
    private readonly db: Database,
    private readonly statement: Statement,
    private readonly laneKey: string,
    /** The notice for a group's jobs, or null when no other instance need hear of them. */
    private readonly channel: { name: string; notice: (jobs: readonly NewJob[]) => string | null },
  ) {}

  /** What `commit_budgeted_jobs` (or `commit_jobs`, with no budget) answers for the push. */
  commit(push: Push): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ push, resolve, reject });
      this.flushSoon();
    });
  }

  /** After the current tick, so that the pushes of one turn of the event loop go together. */
  private flushSoon(): void {
    if (this.flushScheduled || this.committing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.committing || this.waiting.length === 0) return;
    const group = this.waiting.splice(0, GROUP_SIZE);
    this.committing = true;
    this.run(group)
      .then(
        (answers) => {
          for (const [i, waiting] of group.entries()) waiting.resolve(answers[i] as number);
        },
        (error: unknown) => {
          for (const waiting of group) waiting.reject(error);
        },
      )
      .finally(() => {
        this.committing = false;
        this.flush();
      });
  }

  private async run(group: readonly Waiting[]): Promise<number[]> {
    const keys: Array<string | null> = [];
    const limits: Array<number | null> = [];
    const windows: Array<number | null> = [];
    const laneEnds: number[] = [];
    const jobEnds: number[] = [];
    const pushLanes: string[] = [];
    const jobs: NewJob[] = [];
    for (const { push } of group) {
      keys.push(push.budget?.key ?? null);
      limits.push(push.budget?.limit ?? null);
      windows.push(push.budget?.windowMs ?? null);
      pushLanes.push(...push.lanes);
      laneEnds.push(pushLanes.length);
      jobs.push(...push.jobs);
      jobEnds.push(jobs.length);
    }
    const budgetKeys = [...new Set(keys.filter((key) => key !== null))].sort();
    const args = [
      budgetKeys,
      this.laneKey,
      [...new Set(pushLanes)].sort(),
      this.channel.name,
      this.channel.notice(jobs),
      keys,
      limits,
      windows,
      group.map(({ push }) => push.eventId ?? null),
      group.map(({ push }) => push.now),
      laneEnds,
      pushLanes,
      jobEnds,
      ...newJobArrays(jobs),
    ];
    const { rows } = await retried(() => this.db.query<{ answers: number[] }>(this.statement, args));
    const answers = rows[0]?.answers;
    if (answers?.length !== group.length) throw new Error(`commit_pushes answered ${answers?.length ?? 'nothing'} for ${group.length} pushes`);
    return answers;
  }
}
