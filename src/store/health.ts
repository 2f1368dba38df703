import type { HealthSource } from '../health';
import type { Upkeep } from './store';

/**
 * The store as /healthz and the metrics see it: failing when a commit cannot be made durable (a full disk, a
 * database that does not answer), with the backlog of jobs and the age of the oldest, for a person to read.
 */
export function storeHealth(store: Pick<Upkeep, 'stats'>, now: () => number): HealthSource {
  return {
    name: 'store',
    health: async () => {
      const stats = await store.stats().catch((error: unknown) => ({ error: (error as Error).message }));
      if ('error' in stats) return { ok: false, writable: false, error: stats.error };
      return {
        ok: stats.writable,
        writable: stats.writable,
        pendingJobs: stats.pendingJobs,
        oldestPendingJobAgeSeconds: stats.oldestJobCreatedAt === undefined ? 0 : Math.max(0, Math.round((now() - stats.oldestJobCreatedAt) / 1000)),
      };
    },
  };
}
