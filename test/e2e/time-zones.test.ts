import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorOptions } from '../../emulator';
import type { Todo } from '../../src/domain/model';
import { type Harness, TestClock, buttonValue, formValues, groupCards, openForm, postTodo, readable, startHarness, submitForm } from './harness';

/**
 * Whose zone a time is read in when the callback carries no `action.timezone` (Feishu documents it for picker
 * interactions only): the person's Feishu profile zone, then DEFAULT_TIME_ZONE, then the picker's own offset.
 */

const CONTACT = /^\/open-apis\/contact\/v3\/users\//;
const HOUR = 3_600_000;

let clock: TestClock;
let h: Harness;

async function start(p: { env?: Record<string, string>; emulator?: EmulatorOptions } = {}, at = Date.UTC(2026, 10, 23, 2, 0)) {
  clock = new TestClock(at);
  h = await startHarness({ env: p.env, emulator: p.emulator, clock });
}
afterEach(async () => {
  await h.stop();
});

/** `yyyy-MM-dd HH:mm ±hhmm`, `hours` from the bot's clock, in the given offset. */
function picker(hours: number, offsetHours: number): string {
  const local = new Date(clock.now() + hours * HOUR + offsetHours * HOUR);
  const pad = (n: number) => String(n).padStart(2, '0');
  const sign = offsetHours < 0 ? '-' : '+';
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())} ${sign}${pad(Math.abs(offsetHours))}00`;
}

const todoOf = async (id: string) => (await h.app.services.store.todo(id)) as Todo;
const contactCalls = () => h.emu.callsTo('GET', CONTACT);

async function submitted(p: { timezone?: string; remindAt?: string }) {
  const form = await openForm(h, 'ou_admin');
  const callsBeforeSubmit = contactCalls().length;
  const answer = await submitForm(h, 'ou_admin', form, formValues({ text: 'Zoned', remindAt: p.remindAt }), { timezone: p.timezone });
  expect(answer.body.toast).toMatchObject({ type: 'success' });
  // Submit is answered from the stored form: the profile was read while the form was sent, not now.
  expect(contactCalls()).toHaveLength(callsBeforeSubmit);
  await h.settled();
  const card = groupCards(h).at(-1);
  return { todo: (await h.app.services.store.todoByMessage(card?.messageId as string)) as Todo, card: readable(card?.card) };
}

describe('Submit without action.timezone', () => {
  it('uses the owner’s Feishu profile zone, looked up when the form was sent', async () => {
    await start({ emulator: { timeZones: { ou_admin: 'Europe/Berlin' } } });
    const { todo, card } = await submitted({ remindAt: picker(3, 1) });
    expect(todo.timeZone).toBe('Europe/Berlin');
    expect(card).toContain('(Europe/Berlin)');
    const lookups = contactCalls();
    expect(lookups).toHaveLength(1);
    expect(lookups[0]).toMatchObject({ path: '/open-apis/contact/v3/users/ou_admin', query: { user_id_type: 'open_id' }, status: 200 });
  });

  it('the device’s zone, when the callback has one, comes first (any spelling, canonicalised)', async () => {
    await start({ emulator: { timeZones: { ou_admin: 'Europe/Berlin' } } });
    const { todo } = await submitted({ timezone: 'asia/TOKYO', remindAt: picker(3, 9) });
    expect(todo.timeZone).toBe('Asia/Tokyo');
  });

  it('a zone that is not one is ignored, never stored', async () => {
    await start({ emulator: { timeZones: { ou_admin: 'Europe/Berlin' } } });
    const { todo } = await submitted({ timezone: 'Mars/Olympus', remindAt: picker(3, 1) });
    expect(todo.timeZone).toBe('Europe/Berlin');
  });

  it('without the contact scope (99991672) falls back to DEFAULT_TIME_ZONE', async () => {
    await start({ env: { DEFAULT_TIME_ZONE: 'Europe/Berlin' }, emulator: { contactScope: false } });
    const { todo, card } = await submitted({ remindAt: picker(3, 1) });
    expect(contactCalls()[0]).toMatchObject({ status: 400, response: { code: 99991672 } });
    expect(todo.timeZone).toBe('Europe/Berlin');
    expect(card).toContain('(Europe/Berlin)');
  });

  it('…but keeps the picker’s own offset when the default zone’s offset disagrees with it', async () => {
    await start({ env: { DEFAULT_TIME_ZONE: 'Europe/Berlin' }, emulator: { contactScope: false } });
    const { todo, card } = await submitted({ remindAt: picker(3, -5) });
    expect(todo.timeZone).toBe('-05:00');
    expect(todo.remindAt).toBe(clock.now() + 3 * HOUR);
    expect(card).toContain('(UTC-05:00)');
  });

  it('with no reminder and nothing known, the default zone', async () => {
    await start({ env: { DEFAULT_TIME_ZONE: 'America/Sao_Paulo' }, emulator: { contactScope: false } });
    const { todo } = await submitted({});
    expect(todo.timeZone).toBe('America/Sao_Paulo');
  });
});

describe('Snooze and Tomorrow 9:00 without action.timezone', () => {
  async function reminderFor(assignee: string) {
    const todo = await postTodo(h, { assignees: [assignee], remindAt: picker(1, 8), timezone: 'Asia/Shanghai' });
    await clock.advance(HOUR);
    const reminder = [...h.emu.messages.values()].find((m) => m.kind === 'reply' && m.parentId === todo.messageId);
    if (!reminder) throw new Error('no reminder');
    return { todo, reminder };
  }

  it('Tomorrow 9:00 is 9:00 in the clicker’s profile zone', async () => {
    // Mon 23 Nov 2026, 11:00 in Tokyo when the reminder comes.
    await start({ emulator: { timeZones: { ou_alice: 'Asia/Tokyo' } } });
    const { todo, reminder } = await reminderFor('ou_alice');
    const answer = await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.tomorrow'));
    expect(answer.body.toast.content).toMatch(/Tue 24 Nov, 09:00 \(Asia\/Tokyo\)/);
    expect(answer.body.toast.i18n.zh_cn).toBe('已推迟：我会在 11月24日 周二 09:00（Asia/Tokyo） 再次提醒。');
    expect(new Date((await todoOf(todo.todoId)).remindAt as number).toISOString()).toBe('2026-11-24T00:00:00.000Z');
  });

  it('Snooze 1 h says the time in the clicker’s profile zone', async () => {
    await start({ emulator: { timeZones: { ou_alice: 'Europe/London' } } });
    const { reminder } = await reminderFor('ou_alice');
    const answer = await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.snooze'));
    expect(answer.body.toast.content).toMatch(/Snoozed: I will remind again Mon 23 Nov, 04:00 \(Europe\/London\)/);
  });

  it('without the contact scope: DEFAULT_TIME_ZONE, and the refusal is remembered (one call for many clicks)', async () => {
    await start({ env: { DEFAULT_TIME_ZONE: 'America/New_York' }, emulator: { contactScope: false } });
    const { reminder } = await reminderFor('ou_alice');
    const callsBefore = contactCalls().filter((c) => c.path.endsWith('/ou_alice')).length;
    const first = await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.tomorrow'));
    // Sun 22 Nov 2026, 22:00 in New York: tomorrow is Monday.
    expect(first.body.toast.content).toMatch(/Mon 23 Nov, 09:00 \(America\/New_York\)/);
    await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.snooze'));
    await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.snooze'));
    expect(contactCalls().filter((c) => c.path.endsWith('/ou_alice')).length - callsBefore).toBe(1);
  });

  it('a slow profile look-up does not hold the answer past its deadline', async () => {
    await start({ env: { DEFAULT_TIME_ZONE: 'America/New_York' }, emulator: { timeZones: { ou_alice: 'Asia/Tokyo' } } });
    const { reminder } = await reminderFor('ou_alice');
    h.emu.fault({ method: 'GET', path: '/open-apis/contact/v3/users/ou_alice', delayMs: 1_600 });
    const slow = await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.tomorrow'));
    expect(slow.body.toast.content).toMatch(/\(America\/New_York\)/);
    // The look-up went on after the answer and filled the cache for the next click.
    for (let waited = 0; h.app.services.profileZones.cached('ou_alice') === undefined && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const next = await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.tomorrow'));
    expect(next.body.toast.content).toMatch(/\(Asia\/Tokyo\)/);
  });

  it('the device’s zone still comes first; one that is not a zone is refused on every path', async () => {
    await start({ emulator: { timeZones: { ou_alice: 'Asia/Tokyo' } } });
    const { reminder } = await reminderFor('ou_alice');
    const device = await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.snooze'), { timezone: 'EUROPE/paris' });
    expect(device.body.toast.content).toMatch(/\(Europe\/Paris\)/);
    const bogus = await h.click('ou_alice', reminder.messageId, buttonValue(reminder.card, 'todo.tomorrow'), { timezone: 'Not/AZone' });
    expect(bogus.body.toast.content).toMatch(/\(Asia\/Tokyo\)/);
  });
});
