import { afterAll, expect, it } from 'vitest';
import { derivedId } from '../../src/bot/services';
import { formCardIds } from '../../src/domain/todo-form';
import { formValues } from '../e2e/harness';
import {
  MESSAGES,
  SEND,
  adminGroup,
  armSoakFaults,
  figure,
  formCardsByForm,
  groupCards,
  itemNumbers,
  notices,
  pool,
  soakFaultsSeen,
  visibleForms,
  waitFor,
} from '../reliability/support';
import { describePostgres } from '../support/postgres';
import { type Fleet, startFleet } from './fleet';

/**
 * The fault soak (test/reliability/fault-soak.test.ts) over a fleet: 200 admins in 10 groups open a form and
 * submit it, each push handed to one of three instances on one PostgreSQL schema at random (the open through one,
 * the Submit through another, as likely as not), while about 30% of every call to Feishu fails or answers late.
 * Nothing is lost and nothing is done twice, whichever instance ran which step of which job.
 */

const CHATS = 10;
const PER_CHAT = 20;
const TOTAL = CHATS * PER_CHAT;
const FAULT_RATE = 0.3;
const TIMEOUT_MS = 300;

const chatOf = (i: number) => `oc_fleet_soak_${i % CHATS}`;
const userOf = (i: number) => `ou_fleet_soak_${i}`;
const textOf = (i: number) => `Fleet soak item ${i} end`;
const openEventOf = (i: number) => `ev_fleet_soak_open_${i}`;

let f: Fleet | undefined;
afterAll(async () => {
  await f?.stop();
});

describePostgres('fault soak over a fleet', () => {
  it(`${TOTAL} submits through three instances against a Feishu failing ${FAULT_RATE * 100}% of calls: every to-do posted once, every form deleted`, async () => {
    const started = performance.now();
    const chats = Array.from({ length: CHATS }, (_, c) =>
      adminGroup(`oc_fleet_soak_${c}`, Array.from({ length: PER_CHAT }, (_, k) => userOf(k * CHATS + c))),
    );
    f = await startFleet({
      emulator: { chats },
      env: { FEISHU_TIMEOUT_MS: String(TIMEOUT_MS) },
      app: { feishuRetry: { attempts: 6, baseDelayMs: 5, maxDelayMs: 50 }, jobRetryDelaysMs: [50, 100, 200, 400, 800, 1_600] },
    });
    const fleet = f;
    const { emu } = fleet;
    armSoakFaults(emu, FAULT_RATE, TIMEOUT_MS * 2);

    const items = Array.from({ length: TOTAL }, (_, i) => i);
    const openedVia: number[] = [];
    const answers = await pool(items, TOTAL, async (i) => {
      const opened = await fleet.say(userOf(i), `/todo ${textOf(i)}`, { chatId: chatOf(i), eventId: openEventOf(i) });
      expect(opened.status).toBe(200);
      openedVia[i] = opened.via;
      const card = await waitFor(() => visibleForms(emu, chatOf(i), userOf(i))[0], `the form of admin ${i}`, 60_000, 50);
      const formId = derivedId('form', openEventOf(i));
      const answer = await fleet.click(userOf(i), card.messageId, { action: 'todo.submit', formId }, { chatId: chatOf(i), formValue: formValues({ text: textOf(i) }) });
      return { answer, elsewhere: answer.via !== openedVia[i] };
    });
    for (const { answer } of answers) expect(answer.body?.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
    await fleet.settled(60_000);
    emu.clearFaults();

    // Nothing twice: one group card per to-do, however often, and by whichever instance, the post was retried.
    const posted = groupCards(emu);
    const postedItems = posted.flatMap((m) => itemNumbers(m, 'Fleet soak item'));
    expect(postedItems).toHaveLength(TOTAL);
    expect(new Set(postedItems).size).toBe(TOTAL);
    expect(posted).toHaveLength(TOTAL);
    const postCalls = emu.callsTo('POST', MESSAGES);
    const successfulPosts = emu.successfulCallsTo('POST', MESSAGES);
    expect(new Set(successfulPosts.map((c) => c.body.uuid)).size).toBe(TOTAL);
    expect(new Set(successfulPosts.map((c) => c.response.data.message_id)).size).toBe(TOTAL);

    // Nothing lost: every form is posted and its card deleted; every to-do open on its card.
    let formsDeleted = 0;
    for (const i of items) {
      const form = await fleet.store.form(derivedId('form', openEventOf(i)));
      expect(form?.status).toBe('posted');
      const cards = form ? formCardIds(form).map((id) => emu.messages.get(id)) : [];
      if (cards.length > 0 && cards.every((card) => card?.deleted)) formsDeleted++;
    }
    expect(formsDeleted).toBe(TOTAL);
    const todos = (await Promise.all(chats.map((chat) => fleet.store.openTodos(chat.chatId)))).flat();
    expect(todos).toHaveLength(TOTAL);
    expect(todos.every((todo) => todo.status === 'open' && todo.messageId !== undefined)).toBe(true);
    expect(notices(emu)).toHaveLength(0);
    const logs = fleet.logs.flat();
    expect(logs.filter((line) => line.includes('job abandoned'))).toEqual([]);

    // The platform limit, as in the single-instance soak: a send Feishu did but answered too late, once retried,
    // leaves a second card that the bot learns of only when its owner clicks it.
    const byForm = formCardsByForm(emu);
    expect(byForm.size).toBe(TOTAL);
    expect([...byForm.values()].every((cards) => cards.some((m) => m.deleted))).toBe(true);
    const extraCards = [...byForm.values()].flatMap((cards) => cards.filter((m) => !m.deleted));
    const timedOutSends = logs.filter((line) => line.includes('"ephemeral.v1.send"') && line.includes('ECONNABORTED')).length;
    expect(extraCards.length).toBeLessThanOrEqual(timedOutSends);

    const faults = soakFaultsSeen(emu);
    // No instance died and every job is far shorter than its lease: none may have lost one.
    const leaseLosses = logs.filter((line) => line.includes('lost its lease')).length;
    expect(logs.filter((line) => line.includes('lost its lease'))).toEqual([]);
    const jobsPerInstance = fleet.logs.map((lines) => lines.filter((line) => line.includes('"command handled"')).length);
    figure(
      `fleet fault soak — ${TOTAL} submits through 3 instances on PostgreSQL (${answers.filter((a) => a.elsewhere).length} submitted through ` +
        `another instance than the form was opened through; commands handled per instance ${jobsPerInstance.join('/')}), ` +
        `${Math.round((faults.faulted / faults.calls) * 100)}% of ${faults.calls} Feishu calls faulted (${faults.byKind}): ` +
        `${posted.length} final cards, ${formsDeleted} form deletes, ${postedItems.length - new Set(postedItems).size} duplicates ` +
        `(${postCalls.length} post attempts, ${new Set(postCalls.map((c) => c.body?.uuid)).size} uuids), 0 lost, ${leaseLosses} leases lost, ` +
        `${extraCards.length} extra form cards of ${emu.successfulCallsTo('POST', SEND).length} sends (${timedOutSends} timed out); ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 120_000);
});
