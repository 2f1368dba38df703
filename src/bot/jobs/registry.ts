import { JobRegistry } from '../../jobs/registry';
import type { CommandRouter } from '../router';
import type { Services } from '../services';
import { cardUpdateJobs } from './card-update';
import { digestJobs } from './digest';
import { feedJobs } from './feed';
import { formJobs } from './form';
import { messageJobs } from './message';
import { noticeJobs } from './notice';
import { nudgeJobs } from './nudge';
import { reminderJobs } from './reminder';
import { taskJobs } from './task';
import { todoJobs } from './todo';

/**
 * Every job family of the bot, one line each. A family is one file in this folder: its kinds (`jobKind`: name and
 * payload schema), the builders that enqueue them, and the handlers (`handle`) it returns here.
 */
export function botJobRegistry(services: Services, router: CommandRouter): JobRegistry {
  // biome-ignore format: one family a line, so that adding one is a one-line change
  return new JobRegistry([
    ...messageJobs(services, router),
    ...noticeJobs(services),
    ...formJobs(services),
    ...todoJobs(services),
    ...cardUpdateJobs(services),
    ...feedJobs(services),
    ...reminderJobs(services),
    ...digestJobs(services),
    ...taskJobs(services),
    ...nudgeJobs(services),
  ]);
}
