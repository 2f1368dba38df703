import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import {
  buttonValue,
  formCards,
  formValues,
  groupCards,
  messagePayload,
  noticesTo,
  openForm,
  pickerValueInHours,
  postTodo,
  readable,
  submitForm,
} from '../e2e/harness';
import { MESSAGES, SEND, figure } from '../reliability/support';
import { describePostgres } from '../support/postgres';
import { type Fleet, startFleet } from './fleet';

/**
 * Three instances of the bot on one PostgreSQL schema, each push handed to one of them as a load balancer would.
 * What a person does through one instance is seen by the others; a race between instances is decided once.
 */

const isReminderOf = (messageId: string) => (m: { kind: string; parentId?: string }) => m.kind === 'reply' && m.parentId === messageId;

describePostgres('a fleet of three instances on one database', () => {
  let f: Fleet;
  beforeAll(async () => {
    f = await startFleet();
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('takes a form opened through A and submitted through B, and a Done clicked through C', async () => {
    const form = await openForm(f.via(0), 'ou_admin', 'Ship the release notes');
    const answer = await submitForm(f.via(1), 'ou_admin', form, formValues({ text: 'Ship the release notes', assignees: ['ou_alice'] }));
    expect(answer.body.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
    await f.settled();

    const [card, ...others] = groupCards(f);
    expect(others).toEqual([]);
    expect(readable(card?.card)).toContain('Ship the release notes');
    expect(f.emu.messages.get(form.messageId)?.deleted).toBe(true);
    const todo = await f.store.todoByMessage(card?.messageId as string);
    expect(todo).toMatchObject({ status: 'open', assigneeIds: ['ou_alice'] });
    expect((await f.store.form(form.formId))?.status).toBe('posted');

    const done = await f.via(2).click('ou_alice', card?.messageId as string, buttonValue(card?.card, 'todo.done'));
    expect(done.body.toast).toMatchObject({ type: 'success', content: 'Marked done.' });
    await f.settled();
    expect((await f.store.todo(todo?.id as string))?.status).toBe('done');
    expect(readable(f.emu.messages.get(card?.messageId as string)?.updates.at(-1))).toMatch(/Done by/);
  });

  it('posts one card for five concurrent Submit clicks spread over the three instances', async () => {
    const postsBefore = f.emu.callsTo('POST', MESSAGES).length;
    const cardsBefore = groupCards(f).length;
    const form = await openForm(f.via(2), 'ou_admin', 'Book the venue');
    const values = formValues({ text: 'Book the venue' });
    const answers = await Promise.all([0, 1, 2, 0, 1].map((i) => submitForm(f.via(i), 'ou_admin', form, values)));
    const toasts = answers.map((answer) => answer.body.toast);
    expect(toasts.filter((t) => t?.type === 'success')).toEqual([expect.objectContaining({ content: expect.stringMatching(/Posting/) })]);
    // The others lost the race to the form's revision and were told what happened instead.
    for (const t of toasts.filter((t) => t?.type !== 'success')) {
      expect(t).toMatchObject({ type: 'info', content: expect.stringMatching(/already (being|been) posted/) });
    }
    await f.settled();

    const cards = groupCards(f).slice(cardsBefore);
    expect(cards).toHaveLength(1);
    expect(readable(cards[0]?.card)).toContain('Book the venue');
    expect(f.emu.callsTo('POST', MESSAGES).length - postsBefore).toBe(1);
    expect(f.emu.messages.get(form.messageId)?.deleted).toBe(true);
    expect(await f.store.openTodos('oc_group')).toEqual([expect.objectContaining({ text: 'Book the venue' })]);
  });

  it('opens one form for an event delivered to two instances at once, for each of 12 events', async () => {
    const people = ['ou_admin', 'ou_owner'];
    const sendsBefore = f.emu.successfulCallsTo('POST', SEND).length;
    const duplicatesLogged = () => f.logs.flat().filter((line) => line.includes('duplicate delivery ignored')).length;
    const duplicatesBefore = duplicatesLogged();
    const events = Array.from({ length: 12 }, (_, n) => ({ n, owner: people[n % 2] as string, first: n % 3, second: (n + 1 + (n % 2)) % 3 }));
    for (const e of events) {
      // One push, and the very same bytes (its signature and event id) to another instance while the first is handled.
      const payload = messagePayload(e.owner, `/todo Twice delivered ${e.n} end`, {}, `ev_fleet_twice_${e.n}`);
      const first = f.push('/webhook/event', payload, e.first);
      const delivery = f.emu.deliveries.at(-1);
      const second = f.emu.redeliver(delivery as NonNullable<typeof delivery>, { to: `${f.instances[e.second]?.url}/webhook/event` });
      const answers = await Promise.all([first, second]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      // Its form card sent before the person's next /todo replaces the form: a form replaced first is never sent.
      await f.settled();
    }

    const sends = f.emu.successfulCallsTo('POST', SEND).slice(sendsBefore);
    expect(sends).toHaveLength(events.length);
    for (const e of events) {
      expect(sends.filter((call) => JSON.stringify(call.body).includes(`Twice delivered ${e.n} end`))).toHaveLength(1);
    }
    // Each event's second delivery was refused whole by the store, on whichever instance committed it second.
    expect(duplicatesLogged() - duplicatesBefore).toBe(events.length);
    // A second /todo replaces the person's open form: each person holds exactly one, the latest.
    for (const owner of people) expect(formCards(f, owner).filter((m) => !m.deleted && JSON.stringify(m.card).includes('Twice delivered'))).toHaveLength(1);
    expect(noticesTo(f, 'ou_admin').filter((n) => /error|failed/i.test(n))).toEqual([]);
  });
});

describePostgres('a reminder due while instances are down', () => {
  let f: Fleet;
  let clock = Date.UTC(2026, 10, 23, 2, 0);
  beforeAll(async () => {
    f = await startFleet({ app: { now: () => clock } });
  });
  afterAll(async () => {
    await f?.stop();
  });

  /** Time passes for the whole fleet: every running instance is told to look for due work. */
  async function advance(ms: number) {
    clock += ms;
    f.wake();
    await f.settled();
  }

  it('fires once while one instance is down, and not again when it comes back', async () => {
    const { messageId } = await postTodo(f, { text: 'Renew the certificate', remindAt: pickerValueInHours(2, clock) });
    await f.stopInstance(0);
    await advance(2 * 3_600_000 + 60_000);
    // The surviving instances' schedulers fire on their own ticks: on a loaded machine after the outboxes settled once.
    await vi.waitFor(() => expect([...f.emu.messages.values()].filter(isReminderOf(messageId))).toHaveLength(1), { timeout: 10_000 });

    await f.startInstance(0);
    await advance(60_000);
    const reminders = [...f.emu.messages.values()].filter(isReminderOf(messageId));
    expect(reminders).toHaveLength(1);
    expect(readable(reminders[0]?.card)).toContain('Renew the certificate');
  });

  it('fires once, saying it is late, when the whole fleet was down and starts again at once', async () => {
    const { messageId, todoId } = await postTodo(f, { text: 'Water the plants', remindAt: pickerValueInHours(1, clock) });
    await Promise.all([0, 1, 2].map((i) => f.stopInstance(i)));
    clock += 3 * 3_600_000;
    // All three start together, and each one's scheduler finds the reminder due at start.
    await Promise.all([0, 1, 2].map((i) => f.startInstance(i)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await f.settled();
    f.wake();
    await f.settled();

    const reminders = [...f.emu.messages.values()].filter(isReminderOf(messageId));
    expect(reminders).toHaveLength(1);
    expect(readable(reminders[0]?.card)).toMatch(/Late: this was due/);
    // A one-off reminder: nothing further is due.
    expect((await f.store.todo(todoId))?.remindAt).toBeUndefined();
    const replies = f.emu.callsTo('POST', /\/reply$/).filter((call) => JSON.stringify(call.body).includes('Water the plants'));
    figure(`fleet reminder — whole fleet down for 3 h, three instances started at once: ${reminders.length} reminder posted (${replies.length} reply calls)`);
  });
});
