import type { z } from 'zod';
import type { Commit, Job, NewJob } from '../store/store';

/**
 * The kinds of job the outbox can run, each with the schema of its payload, its builder and its handler. Payloads
 * are stored as JSON and may have been written by another version of the bot (or be damaged): they are checked
 * against their kind's schema when the job is claimed, so a handler only ever sees a payload of its own type, and
 * a job that fails the check is parked by the outbox rather than run.
 *
 * A family of jobs lives in one file beside the feature it serves: `jobKind` names each kind and its payload
 * schema, builders make its jobs with `newJob`, and `handle` pairs the kind with its handler for the registry.
 */

/** The time a builder stamps on the jobs it makes: all most builders need (the bot's services are one). */
export interface Clock {
  now: () => number;
}

/** A kind of job: the name stored with each job and the schema its payload must pass. */
export interface JobKind<Name extends string, Schema extends z.ZodType> {
  readonly name: Name;
  readonly payload: Schema;
}

export function jobKind<Name extends string, Schema extends z.ZodType>(name: Name, payload: Schema): JobKind<Name, Schema> {
  return { name, payload };
}

/** A job of `kind`, its payload checked against the kind's type where it is built. */
export function newJob<Name extends string, Schema extends z.ZodType>(
  kind: JobKind<Name, Schema>,
  job: Omit<NewJob, 'kind' | 'payload'> & { payload: z.input<Schema> },
): NewJob & { kind: Name; payload: z.input<Schema> } {
  return { ...job, kind: kind.name };
}

export interface StepOptions<T> {
  /** For a step that cannot safely be done twice and that Feishu cannot deduplicate (an ephemeral send). */
  undo?: (result: T) => Promise<unknown>;
}

export interface JobContext<Payload = unknown> {
  job: Job;
  /** The job's payload, checked against its kind's schema. */
  payload: Payload;
  /**
   * Runs `fn` once per job: a step already recorded returns its stored result without running again. `fn` starts
   * only while the job holds its lease; `undo`, when given, takes back what `fn` did if its result cannot be recorded
   * because the lease was lost meanwhile (another instance runs the job now, and does the step itself).
   */
  step<T>(name: string, fn: () => Promise<T>, options?: StepOptions<T>): Promise<T>;
  /** Commits state changes as this job: refused if the job lost its lease; a lost race runs the job again. */
  commit(commit: Omit<Commit, 'by' | 'now'>): Promise<void>;
}

/** The part of a job's context that does not depend on its payload: what the outbox provides. */
export type JobRuntime = Omit<JobContext, 'payload'>;

export interface JobHandler<Payload> {
  run(ctx: JobContext<Payload>): Promise<void>;
  /** Called once when the job is abandoned (a permanent failure, or transient ones for too long). */
  giveUp?(ctx: JobContext<Payload>, error: unknown): Promise<void> | void;
}

/** A claimed job, its payload checked, ready to run; or why it cannot be. */
export type BoundJob =
  | { ok: true; run(runtime: JobRuntime): Promise<void>; giveUp(runtime: JobRuntime, error: unknown): Promise<void> }
  | { ok: false; problem: string };

/** A kind and its handler, as the registry holds them (the payload's type is known only inside). */
export interface RegisteredJob {
  readonly kind: string;
  bind(job: Job): BoundJob;
}

/** Pairs a kind with the handler of its jobs: the handler receives the payload as the schema parsed it. */
export function handle<Name extends string, Schema extends z.ZodType>(kind: JobKind<Name, Schema>, handler: JobHandler<z.output<Schema>>): RegisteredJob {
  return {
    kind: kind.name,
    bind(job) {
      const parsed = kind.payload.safeParse(job.payload);
      if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error) };
      const payload = parsed.data;
      return {
        ok: true,
        run: (runtime) => handler.run({ ...runtime, payload }),
        giveUp: async (runtime, error) => handler.giveUp?.({ ...runtime, payload }, error),
      };
    },
  };
}

/** Where the payload is wrong and how, never the values found there (a payload may hold what people wrote). */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'payload'}: ${issue.message}`).join('; ');
}

/** Every kind of job this process runs, by name. */
export class JobRegistry {
  private readonly byKind = new Map<string, RegisteredJob>();

  constructor(jobs: Iterable<RegisteredJob>) {
    for (const job of jobs) {
      if (this.byKind.has(job.kind)) throw new Error(`job kind ${job.kind} is registered twice`);
      this.byKind.set(job.kind, job);
    }
  }

  get kinds(): string[] {
    return [...this.byKind.keys()];
  }

  /** The job's handler, bound to its checked payload; a kind nobody handles or a payload that fails is a problem. */
  bind(job: Job): BoundJob {
    const registered = this.byKind.get(job.kind);
    if (!registered) return { ok: false, problem: `no handler for job kind ${job.kind}` };
    return registered.bind(job);
  }
}
