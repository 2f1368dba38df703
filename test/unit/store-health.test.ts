import { describe, expect, it, vi } from 'vitest';
import { sharedStats } from '../../src/store/health';
import type { StoreStats } from '../../src/store/store';

const stats = (pendingJobs: number): StoreStats => ({ writable: true, pendingJobs, runningJobs: 0, retryingJobs: 0, remindersPending: 0, formsOpen: 0 });

describe('sharedStats', () => {
  it('reads once for the callers that ask while a read is under way, and afresh after it', async () => {
    let pending = 0;
    const store = { stats: vi.fn(async () => stats(++pending)) };
    const shared = sharedStats(store);
    const [a, b] = await Promise.all([shared.stats(), shared.stats()]);
    expect(store.stats).toHaveBeenCalledTimes(1);
    expect(a).toBe(b);
    expect((await shared.stats()).pendingJobs).toBe(2);
    expect(store.stats).toHaveBeenCalledTimes(2);
  });

  it('gives a failed read to everyone who waited on it, and reads again next time', async () => {
    const store = { stats: vi.fn().mockRejectedValueOnce(new Error('database gone')).mockResolvedValue(stats(0)) };
    const shared = sharedStats(store);
    const both = await Promise.allSettled([shared.stats(), shared.stats()]);
    expect(both.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((await shared.stats()).pendingJobs).toBe(0);
    expect(store.stats).toHaveBeenCalledTimes(2);
  });
});
