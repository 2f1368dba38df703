import type { HealthSource } from '../health';
import type { Logger } from '../log';
import { storeFailure } from './failure';
import type { Upkeep } from './store';

/**
 * `store.stats()`, read once for every caller that asks while a read is under way: a scrape asks for the store's gauges
 * and for its health part at the same moment, and on PostgreSQL each read is a query.
 */
export function sharedStats(store: Pick<Upkeep, 'stats'>): Pick<Upkeep, 'stats'> {
  let reading: ReturnType<Upkeep['stats']> | undefined;
  return {
    stats: () =>
      (reading ??= store.stats().finally(() => {
        reading = undefined;
      })),
  };
}

/**
 * The store as /healthz and the metrics see it: failing when a commit cannot be made durable (a full disk, a
 * database that does not answer), with the backlog of jobs and the age of the oldest, for a person to read.
 * /healthz is public: a failure shows as its category; the driver's text (hosts, users) goes to the log, once a change.
 */
export function storeHealth(store: Pick<Upkeep, 'stats'>, now: () => number, p: { kind: 'file' | 'postgresql'; logger: Logger }): HealthSource {
  let lastFailure: string | undefined;
  const failure = (error: unknown) => {
    const category = storeFailure(error);
    const detail = (error as Error | undefined)?.message;
    if (detail !== lastFailure) p.logger.warn({ category, err: detail }, 'the store failed its health check');
    lastFailure = detail;
    return category;
  };
  return {
    name: 'store',
    health: async () => {
      const stats = await store.stats().catch((error: unknown) => ({ error }));
      if ('error' in stats) return { ok: false, kind: p.kind, writable: false, error: failure(stats.error) };
      return {
        ok: stats.writable,
        kind: p.kind,
        writable: stats.writable,
        pendingJobs: stats.pendingJobs,
        oldestPendingJobAgeSeconds: stats.oldestJobCreatedAt === undefined ? 0 : Math.max(0, Math.round((now() - stats.oldestJobCreatedAt) / 1000)),
      };
    },
  };
}
