import { type DigestSlot, dueDigestSlot, nextDigestAt, opensWeek } from '../domain/digest';
import { resolveSettings } from '../domain/group-settings';
import { type ChatSettings, changedChat } from '../domain/model';
import { wallClock } from '../domain/time';
import { type ScheduledTask, nextPeriodicDue } from '../jobs/scheduler';
import { digestJob } from './jobs/digest';
import type { Services } from './services';

/**
 * The daily digest. A scheduled task looks at the chats with open to-dos at least once a minute (and at the next
 * digest time it knows of), and claims each group's digest for the day by writing the day into the group's record,
 * from the revision read, together with the job that posts it (`jobs/digest.ts`): with several instances and across
 * restarts, one claims each group's digest a day. A digest missed by less than 3 h (the bot was down) is claimed
 * late, once; one missed by more is skipped.
 */

/** The longest the task goes without looking at the chats: a new to-do or a changed setting is seen within it. */
export const DIGEST_SWEEP_MS = 60_000;
/** Groups looked at together. */
const LOOK_BATCH = 50;

export function digestTask(services: Services): ScheduledTask {
  const { store, config } = services;
  let lastSweep = Number.NEGATIVE_INFINITY;
  let nextAt: number | undefined;
  return {
    name: 'digests',
    nextDue: async () => Math.min(nextPeriodicDue(lastSweep, DIGEST_SWEEP_MS, services.now()), nextAt ?? Number.POSITIVE_INFINITY),
    async run(now) {
      lastSweep = now;
      let soonest: number | undefined;
      const look = async (chatId: string) => {
        const record = await store.chat(chatId);
        if (record?.botLeftAt !== undefined) return;
        const settings = resolveSettings(record, config.groupDefaults);
        const next = nextDigestAt(now, settings);
        if (next !== undefined && (soonest === undefined || next < soonest)) soonest = next;
        const slot = dueDigestSlot(now, settings);
        if (slot === undefined || claimed(record, settings.timeZone, slot)) return;
        // A group quiet at its digest time (its to-dos all came later) gets nothing, not a digest the moment one comes.
        const open = await store.openTodos(chatId);
        if (!open.some((todo) => todo.createdAt <= slot.at)) return;
        const claim = changedChat(record, chatId, { lastDigestAt: slot.at, lastDigestZone: settings.timeZone, updatedAt: now });
        // Refused when another instance claimed it first (or an admin saved settings meanwhile: the next look decides).
        await store.commit({ now, chats: [claim], jobs: [digestJob(services, chatId, slot, opensWeek(slot, record?.lastDigestAt, settings.timeZone))] });
      };
      // Groups looked at a batch at a time, so that many groups due at one minute are claimed, and start going out,
      // at the pace Feishu lets them out rather than one store round trip after another.
      const chats = await store.chatsWithOpenTodos();
      for (let i = 0; i < chats.length; i += LOOK_BATCH) await Promise.all(chats.slice(i, i + LOOK_BATCH).map(look));
      nextAt = soonest;
    },
  };
}

/**
 * Whether the group's digest of `slot` is claimed: one a day. The last claim's day is read in the zone it was claimed
 * in: read in a new zone it can be that zone's next day (Monday 09:00 in Los Angeles is Tuesday 01:00 in Shanghai) and
 * would skip that day's digest, while a group moving from London to Paris after its digest gets no second one.
 */
function claimed(record: ChatSettings | undefined, zone: string, slot: DigestSlot): boolean {
  if (record?.lastDigestAt === undefined) return false;
  const claimZone = record.lastDigestZone ?? zone;
  return wallClock(record.lastDigestAt, claimZone).date === slot.day;
}
