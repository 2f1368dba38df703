import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobRegistry, handle, jobKind, newJob } from '../../src/jobs/registry';
import type { Job } from '../../src/store/store';

const greet = jobKind('greet', z.object({ name: z.string(), times: z.number().int().positive().optional() }));

function stored(kind: string, payload: unknown): Job {
  return { id: `${kind}:1`, kind, lane: 'l', seq: 1, payload, steps: {}, attempts: 0, runAt: 0, createdAt: 0 };
}

function runtime(job: Job) {
  return { job, step: <T>(_: string, fn: () => Promise<T>) => fn(), commit: async () => {} };
}

describe('the job registry', () => {
  it('hands a handler the payload its kind’s schema parsed, and the same to its giveUp', async () => {
    const seen: unknown[] = [];
    const registry = new JobRegistry([
      handle(greet, {
        run: async ({ payload }) => void seen.push(payload),
        giveUp: ({ payload }, error) => void seen.push([payload.name, String(error)]),
      }),
    ]);
    const job = stored('greet', { name: 'Ada', extra: 'not in the schema' });
    const bound = registry.bind(job);
    if (!bound.ok) throw new Error(bound.problem);
    await bound.run(runtime(job));
    await bound.giveUp(runtime(job), 'boom');
    expect(seen).toEqual([{ name: 'Ada' }, ['Ada', 'boom']]);
  });

  it('says where a payload is wrong, without the values found there', () => {
    const registry = new JobRegistry([handle(greet, { run: async () => {} })]);
    const bound = registry.bind(stored('greet', { name: 'secret text', times: -2 }));
    expect(bound).toEqual({ ok: false, problem: 'times: Too small: expected number to be >0' });
    expect(registry.bind(stored('greet', 'not an object'))).toEqual({ ok: false, problem: 'payload: Invalid input: expected object, received string' });
    expect(registry.bind(stored('wave', { name: 'Ada' }))).toEqual({ ok: false, problem: 'no handler for job kind wave' });
  });

  it('refuses one kind registered twice', () => {
    expect(() => new JobRegistry([handle(greet, { run: async () => {} }), handle(greet, { run: async () => {} })])).toThrow(
      'job kind greet is registered twice',
    );
  });

  it('builds a job of a kind with the kind’s name', () => {
    const job = newJob(greet, { id: 'greet:1', lane: 'l', payload: { name: 'Ada' }, runAt: 5, createdAt: 5 });
    expect(job).toEqual({ id: 'greet:1', kind: 'greet', lane: 'l', payload: { name: 'Ada' }, runAt: 5, createdAt: 5 });
  });
});
