import { digestCard } from '../../cards/digest';
import { type DigestSlot, digestLines, dueDigestSlot, lastWeek, nextDigestAt, opensWeek, weeklyNumbers } from '../domain/digest';
import { resolveSettings } from '../domain/group-settings';
import { type ChatSettings, RECORD_VERSION } from '../domain/model';
import { wallClock } from '../domain/time';
import type { JobHandler } from '../jobs/outbox';
import type { ScheduledTask } from '../jobs/scheduler';
import type { NewJob } from '../store/store';
import { groupSettings } from './group-settings';
import { type Services, derivedId } from './services';

/**
 * The daily digest. A scheduled task looks at the chats with open to-dos at least once a minute (and at the next
 * digest time it knows of), and claims each group's digest for the day by writing the day into the group's record,
 * from the revision read, together with the job that posts it: with several instances and across restarts, one
 * claims each group's digest a day. A digest missed by less than 3 h (the bot was down) is claimed late, once; one
 * missed by more is skipped. The job renders the card when it runs, from the store, and posts it with a `uuid`
 * derived from its id, so a crash after posting does not post it twice.
 */

/** The longest the task goes without looking at the chats: a new to-do or a changed setting is seen within it. */
export const DIGEST_SWEEP_MS = 60_000;

interface DigestPayload {
  chatId: string;
  /** The digest time claimed. */
  slotAt: number;
  /** The first digest of its week: it opens with last week's numbers. */
  opensWeek: boolean;
}

function digestJob(services: Services, chatId: string, slot: DigestSlot, weekly: boolean): NewJob {
  const payload: DigestPayload = { chatId, slotAt: slot.at, opensWeek: weekly };
  return { id: `digest:${chatId}:${slot.day}`, kind: 'digest', lane: `digest:${chatId}`, chatId, payload, runAt: services.now(), createdAt: services.now() };
}

export function digestTask(services: Services): ScheduledTask {
  const { store, config } = services;
  let lastSweep = Number.NEGATIVE_INFINITY;
  let nextAt: number | undefined;
  return {
    name: 'digests',
    nextDue: async () => Math.min(lastSweep + DIGEST_SWEEP_MS, nextAt ?? Number.POSITIVE_INFINITY),
    async run(now) {
      lastSweep = now;
      let soonest: number | undefined;
      for (const chatId of await store.chatsWithOpenTodos()) {
        const record = await store.chat(chatId);
        const settings = resolveSettings(record, config.groupDefaults);
        const next = nextDigestAt(now, settings);
        if (next !== undefined && (soonest === undefined || next < soonest)) soonest = next;
        const slot = dueDigestSlot(now, settings);
        if (slot === undefined || claimedDay(record, settings.timeZone) === slot.day) continue;
        // A group quiet at its digest time (its to-dos all came later) gets nothing, not a digest the moment one comes.
        const open = await store.openTodos(chatId);
        if (!open.some((todo) => todo.createdAt <= slot.at)) continue;
        const claimed: ChatSettings = { ...(record ?? { v: RECORD_VERSION, id: chatId }), lastDigestAt: slot.at, updatedAt: now };
        // Refused when another instance claimed it first (or an admin saved settings meanwhile: the next look decides).
        await store.commit({ now, chats: [claimed], jobs: [digestJob(services, chatId, slot, opensWeek(slot, record?.lastDigestAt, settings.timeZone))] });
      }
      nextAt = soonest;
    },
  };
}

/** The day, in the group's zone, of the latest digest claimed for it. */
function claimedDay(record: ChatSettings | undefined, zone: string): string | undefined {
  return record?.lastDigestAt === undefined ? undefined : wallClock(record.lastDigestAt, zone).date;
}

export function digestJobHandler(services: Services): JobHandler {
  const { store, feishu, now } = services;
  return {
    async run({ job, step }) {
      const payload = job.payload as DigestPayload;
      const settings = await groupSettings(services, payload.chatId);
      const at = now();
      const open = await store.openTodos(payload.chatId);
      const lines = digestLines(open, at, settings.timeZone);
      let week: ReturnType<typeof weeklyNumbers> | undefined;
      if (payload.opensWeek) {
        const { start, end } = lastWeek(payload.slotAt, settings.timeZone);
        week = weeklyNumbers(open, await store.todosDoneBetween(payload.chatId, start, end), at);
      }
      // Nothing to list and no week to sum up: a quiet group gets nothing.
      if (lines.length === 0 && (week === undefined || week.length === 0)) return;
      const card = digestCard({ lines, week, now: at, timeZone: settings.timeZone, lang: settings.language });
      await step('post', () => feishu.sendCard({ chatId: payload.chatId, card, uuid: derivedId('d', job.id) }));
    },
  };
}
