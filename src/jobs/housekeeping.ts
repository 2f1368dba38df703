import type { Logger } from '../log';
import type { Upkeep } from '../store/store';
import { type ScheduledTask, nextPeriodicDue } from './scheduler';

const HOUSEKEEPING_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Once an hour (the first an hour after start): the store forgets what no longer matters (old event ids, long-closed
 * forms) and the rate limiters forget idle chats, so a long-running bot does not grow with every chat it ever saw.
 */
export function housekeepingTask(options: {
  store: Pick<Upkeep, 'prune'>;
  sweepLimits: () => Promise<void>;
  logger: Logger;
  now: () => number;
}): ScheduledTask {
  let last = options.now();
  return {
    name: 'housekeeping',
    nextDue: async () => nextPeriodicDue(last, HOUSEKEEPING_INTERVAL_MS, options.now()),
    run: async (at) => {
      last = at;
      const removed = await options.store.prune(at);
      await options.sweepLimits();
      options.logger.info({ removed }, 'housekeeping done');
    },
  };
}
