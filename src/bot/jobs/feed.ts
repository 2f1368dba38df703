import { z } from 'zod';
import { oneLine } from '../../../cards/parts';
import type { Language } from '../../domain/languages';
import type { Todo } from '../../domain/model';
import { chatLink } from '../../feishu/app-links';
import { FEED_CARD_BATCH, type FeedCardContent, type FeedCardFailure } from '../../feishu/client';
import { t } from '../../i18n';
import { RetryLater } from '../../jobs/outbox';
import { type Clock, type JobContext, type RegisteredJob, handle, jobKind } from '../../jobs/registry';
import { recordLanguage } from '../language';
import type { Services } from '../services';
import { todoLaneJob } from './todo-lane';

/**
 * A to-do's assignees' feed cards, kept equal to its state as a durable job: present while it is open, gone when it is
 * done or recalled. The job reads the to-do when it runs, so a burst of changes converges on the latest; it has a lane
 * of its own per to-do, so one waiting to try a card again never holds up the to-do's reminders, updates or recall.
 */

const feedSync = jobKind('feed.sync', z.object({ todoId: z.string() }));

/** The assignees' feed cards should match the to-do's current state. */
export function feedSyncJob(clock: Clock, todo: Todo) {
  return { ...todoLaneJob(clock, feedSync, todo, { todoId: todo.id }), lane: `feed:${todo.id}` };
}

/** Who should hold a card of the to-do: its assignees while it is open. */
const wantedCards = (todo: Todo) => (todo.status === 'open' ? todo.assigneeIds : []);

/** Feishu's reason for a person the app may not send feed cards to (outside its availability, say): no wait cures it. */
const NO_PERMISSION = 1;

/**
 * Feishu takes at most 120 characters of preview. A feed card has no i18n fields, and the bot does not know an
 * assignee's language: it is written in the to-do's (its form's).
 */
function feedCardOf(todo: Todo, lang: Language, feishuDomain: string): FeedCardContent {
  return {
    bizId: todo.id,
    title: t(lang, 'feedCard.title'),
    preview: oneLine(todo.text, 120),
    link: chatLink(todo.chatId, feishuDomain),
    status: { text: t(lang, 'todoCard.status.open'), type: 'primary' },
  };
}

export function feedJobs(services: Services): RegisteredJob[] {
  const { store, feishu, logger } = services;

  const syncFeedCards = handle(feedSync, {
    async run(ctx) {
      const { todoId } = ctx.payload;
      const initial = await store.todo(todoId);
      if (!initial) return;
      const wanted = wantedCards(initial);
      const live = initial.feedCardUserIds ?? [];
      const toCreate = wanted.filter((id) => !live.includes(id));
      const toDelete = live.filter((id) => !wanted.includes(id));
      const failed: FeedCardFailure[] = [];

      // Each batch's outcome is stored before the next, so a crash never forgets a card that exists.
      for (let i = 0; i < toCreate.length; i += FEED_CARD_BATCH) {
        const batch = toCreate.slice(i, i + FEED_CARD_BATCH);
        const failures = await feishu.createFeedCards(feedCardOf(initial, recordLanguage(services, initial), services.config.feishuDomain), batch);
        const created = batch.filter((id) => !failures.some((f) => f.userId === id));
        failed.push(...failures);
        await updateLive(ctx, todoId, (ids) => [...new Set([...ids, ...created])]);
      }
      for (let i = 0; i < toDelete.length; i += FEED_CARD_BATCH) {
        const batch = toDelete.slice(i, i + FEED_CARD_BATCH);
        const failures = await feishu.deleteFeedCards(todoId, batch);
        const gone = batch.filter((id) => !failures.some((f) => f.userId === id));
        failed.push(...failures);
        await updateLive(ctx, todoId, (ids) => ids.filter((id) => !gone.includes(id)));
      }
      const refused = failed.filter((f) => f.reason === NO_PERMISSION);
      if (refused.length > 0)
        logger.info({ todoId, refused: refused.map((f) => f.userId) }, 'feed cards refused for these people (no permission); not retried');
      const retried = failed.filter((f) => f.reason !== NO_PERMISSION);
      if (retried.length > 0) {
        logger.warn({ todoId, failed: retried.map((f) => `${f.userId}:${f.reason}`) }, 'some feed cards failed; will retry');
        throw new RetryLater(`${retried.length} feed card(s) failed`);
      }
      // A change the to-do's own next sync would not see: one queued in another lane (a job stored by a version that
      // queued these in the to-do's lane) and run meanwhile.
      const latest = await store.todo(todoId);
      if (latest && wantedCards(latest).join() !== wanted.join()) throw new RetryLater('the to-do changed while its feed cards were synced');
    },
  });

  /** Records which assignees hold a live card, from the to-do as it is now (other jobs may have changed it). */
  async function updateLive(ctx: Pick<JobContext, 'commit'>, todoId: string, change: (ids: string[]) => string[]): Promise<void> {
    const todo = await store.todo(todoId);
    if (!todo) return;
    await ctx.commit({ todos: [{ ...todo, feedCardUserIds: change(todo.feedCardUserIds ?? []) }] });
  }

  return [syncFeedCards];
}
