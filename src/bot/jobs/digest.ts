import { z } from 'zod';
import { digestCard } from '../../../cards/digest';
import { type DigestSlot, digestLines, lastWeek, weeklyNumbers } from '../../domain/digest';
import { type Clock, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import { postingChat } from '../group-settings';
import { type Services, derivedId } from '../services';

/**
 * A group's daily digest, posted to the group (the scheduler's task in `digest.ts` claims each group's digest for the
 * day and enqueues one of these). The card is drawn when the job runs, from the store, and posted with a `uuid`
 * derived from the job's id, which names the group and the day, so a crash after posting cannot post it twice.
 */

const digestKind = jobKind(
  'digest',
  z.object({
    chatId: z.string(),
    /** The digest time claimed. */
    slotAt: z.number(),
    /** The first digest of its week: it opens with last week's numbers. */
    opensWeek: z.boolean(),
  }),
);

export function digestJob(clock: Clock, chatId: string, slot: DigestSlot, opensWeek: boolean) {
  const at = clock.now();
  return newJob(digestKind, {
    id: `digest:${chatId}:${slot.day}`,
    lane: `digest:${chatId}`,
    chatId,
    payload: { chatId, slotAt: slot.at, opensWeek },
    runAt: at,
    createdAt: at,
  });
}

export function digestJobs(services: Services): RegisteredJob[] {
  const { store, feishu, now } = services;
  return [
    handle(digestKind, {
      async run({ job, payload, step }) {
        const { settings, left } = await postingChat(services, payload.chatId);
        const at = now();
        const open = await store.openTodos(payload.chatId);
        const lines = digestLines(open, at, settings.timeZone, left);
        let week: ReturnType<typeof weeklyNumbers> | undefined;
        if (payload.opensWeek) {
          const { start, end } = lastWeek(payload.slotAt, settings.timeZone);
          week = weeklyNumbers(open, await store.todosDoneBetween(payload.chatId, start, end), at, left);
        }
        // Nothing to list and no week to sum up: a quiet group gets nothing.
        if (lines.length === 0 && (week === undefined || week.length === 0)) return;
        const card = digestCard({ lines, week, now: at, timeZone: settings.timeZone, lang: settings.language, left });
        await step('post', () => feishu.sendCard({ chatId: payload.chatId, card, uuid: derivedId('d', job.id), bulk: true }));
      },
    }),
  ];
}
