import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultChats } from '../../emulator';
import { formCards, formValues, groupCards, pickerValueInHours, submitForm } from '../e2e/harness';
import { figure } from '../reliability/support';
import { describePostgres } from '../support/postgres';
import { type Fleet, startFleet } from './fleet';

/**
 * Three instances on one PostgreSQL schema, each looking for due digests and nudges on the same clock at the same
 * time: every group gets one digest a day, and every overdue to-do one nudge, whichever instance claims it.
 */

const GROUPS = Array.from({ length: 6 }, (_, i) => `oc_team_${i}`);
const HOUR = 3_600_000;
/** Monday 23 November 2026, 10:00 in Shanghai. */
let clock = Date.UTC(2026, 10, 23, 2, 0);

describePostgres('the daily digest and nudges on a fleet of three instances', () => {
  let f: Fleet;
  beforeAll(async () => {
    const team = (chatId: string) => ({
      chatId,
      chatType: 'group' as const,
      ownerId: 'ou_owner',
      managerIds: ['ou_admin'],
      memberIds: ['ou_owner', 'ou_admin', 'ou_bea'],
    });
    f = await startFleet({
      env: { DIGEST_TIME: '09:00', OVERDUE_NUDGE_HOURS: '2', USER_COMMAND_LIMIT: '100' },
      emulator: { chats: [...defaultChats(), ...GROUPS.map(team)] },
      app: { now: () => clock },
    });
  });
  afterAll(async () => {
    await f?.stop();
  });

  /** Moves the shared clock and has every instance look at once, several times over. */
  async function advance(ms: number) {
    clock += ms;
    for (let i = 0; i < 3; i++) f.wake();
    await f.settled();
    f.wake();
    await f.settled();
  }

  it('posts one digest per group and day, and one nudge per overdue to-do', async () => {
    for (const [i, chatId] of GROUPS.entries()) {
      await f.via(i % 3).say('ou_admin', '/todo', { chatId });
      await f.settled();
      const form = formCards(f, 'ou_admin').find((m) => m.chatId === chatId);
      if (!form) throw new Error(`no form in ${chatId}`);
      const answer = await submitForm(
        f.via((i + 1) % 3),
        'ou_admin',
        { messageId: form.messageId, card: form.card },
        formValues({ text: `Report ${i}`, assignees: ['ou_bea'], remindAt: pickerValueInHours(1, clock) }),
        { chatId },
      );
      expect(answer.body.toast.type).toBe('success');
      await f.settled();
    }
    await advance(HOUR); // 11:00: the reminders
    await advance(2 * HOUR); // 13:00: two hours overdue, one nudge each
    await advance(HOUR);
    const nudges = [...f.emu.messages.values()].filter((m) => m.kind === 'reply' && JSON.stringify(m.card).includes('still open'));
    expect(nudges.map((m) => m.chatId).sort()).toEqual([...GROUPS].sort());

    await advance(19 * HOUR); // Tuesday 09:00
    await advance(60_000);
    await f.stopInstance(1);
    await f.startInstance(1);
    await advance(HOUR);
    const digests = groupCards(f).filter((m) => JSON.stringify(m.card).includes('Daily digest'));
    expect(digests.map((m) => m.chatId).sort()).toEqual([...GROUPS].sort());
    for (const digest of digests) expect(JSON.stringify(digest.card)).toMatch(/Report \d+/);
    figure(`fleet digest — ${GROUPS.length} groups, three instances looking at once and one restarted: ${digests.length} digests, ${nudges.length} nudges`);
  }, 120_000);
});
