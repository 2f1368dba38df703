import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../src/domain/group-settings';
import { RECORD_VERSION } from '../../src/domain/model';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { FilePersistence } from '../../src/store/embedded/snapshot-log';
import type { ExportedRecord } from '../../src/store/store';
import { type Harness, buttonValue, ephemeralCards, formCards, formValues, noticesTo, readable, startHarness, submitButtonName, submitForm } from './harness';

/**
 * `/settings` as Feishu meets it: the private form for an admin, a refusal for a member, Save checked field by field
 * and applied at once, and the settings kept in the store across a restart and an export and import.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    // One admin sends /settings more often than the 10 commands in 10 s a person may.
    env: { DIGEST_TIME: '09:00', USER_COMMAND_LIMIT: '100' },
    emulator: {
      chats: [{ chatId: 'oc_group', chatType: 'group', ownerId: 'ou_owner', managerIds: ['ou_admin'], memberIds: ['ou_owner', 'ou_admin', 'ou_member'] }],
    },
  });
});
afterAll(async () => {
  await h.stop();
});
beforeEach(() => {
  h.emu.reset();
});

/** `/settings` from `user`, and the settings card it produced for them (if any). */
async function openSettings(user: string, text = '/settings') {
  await h.say(user, text);
  await h.settled();
  return formCards(h, user).at(-1);
}

/** A form field of a card, by name. */
function field(card: unknown, name: string): Record<string, unknown> {
  const stack: unknown[] = [card];
  while (stack.length) {
    const node = stack.pop() as Record<string, unknown> | null;
    if (node && typeof node === 'object') {
      if (node.name === name && node.tag !== 'form') return node;
      stack.push(...Object.values(node));
    }
  }
  throw new Error(`no field ${name}`);
}

/** The Save button's callback value, as the client sends it with the form's fields. */
function saveValue(card: unknown): Record<string, unknown> {
  const button = field(card, submitButtonName(card)) as { behaviors: Array<{ value: Record<string, unknown> }> };
  return button.behaviors[0]?.value as Record<string, unknown>;
}

/** Feishu sends every field of a form, each as the person left it: here as the card showed it, but for `changes`. */
function everyField(card: unknown, changes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, changes[name] ?? String(field(card, name).default_value ?? field(card, name).initial_option)]));
}

async function submit(user: string, card: { messageId: string; card?: unknown }, formValue: Record<string, unknown>) {
  return h.click(user, card.messageId, saveValue(card.card), { formValue, name: submitButtonName(card.card) });
}

describe('/settings', () => {
  it('shows an admin the group’s current values privately, and tells a member only admins change them', async () => {
    const card = await openSettings('ou_admin');
    expect(card).toMatchObject({ kind: 'ephemeral', visibleTo: 'ou_admin' });
    expect(field(card?.card, 'digestTime')).toMatchObject({ tag: 'input', default_value: '09:00' });
    expect(field(card?.card, 'nudgeAfterHours')).toMatchObject({ default_value: 'off' });
    expect(field(card?.card, 'timeZone')).toMatchObject({ default_value: 'Asia/Shanghai' });
    expect(field(card?.card, 'whoCreates')).toMatchObject({ tag: 'select_static', initial_option: 'admins' });
    expect(field(card?.card, 'tomorrowTime')).toMatchObject({ default_value: '09:00' });

    expect(await openSettings('ou_member')).toBeUndefined();
    expect(noticesTo(h, 'ou_member').join()).toMatch(/Only the group owner and group admins can change this group's settings/);
    expect(ephemeralCards(h).filter((m) => m.visibleTo === 'ou_member')).toHaveLength(1);
  });

  it('answers /设置 in Chinese', async () => {
    const card = await openSettings('ou_owner', '/设置');
    expect(readable(card?.card)).toContain('本群设置');
  });

  it('saves what changed, says what changed, and applies it at once', async () => {
    const card = await openSettings('ou_admin');
    if (!card) throw new Error('no settings card');
    const answer = await submit('ou_admin', card, {
      language: 'en_us',
      timeZone: 'europe/berlin',
      whoCreates: 'everyone',
      digestTime: '8:30',
      digestDays: 'daily',
      nudgeAfterHours: '24',
      taskSync: 'off',
      tomorrowTime: '10:00',
    });
    expect(answer.body.toast.type).toBe('success');
    expect(answer.body.toast.content).toBe(
      'Saved. Time zone: Europe/Berlin; Who may create to-dos: Everyone; Daily digest: 08:30; Digest days: Every day; Overdue nudges: after 24 hours; "Tomorrow" time: 10:00.',
    );
    expect(await h.app.services.store.chat('oc_group')).toMatchObject({
      timeZone: 'Europe/Berlin',
      whoCreates: 'everyone',
      digestTime: '08:30',
      digestDays: 'daily',
      nudgeAfterHours: 24,
      tomorrowTime: '10:00',
    });
    // Unchanged settings are not pinned: the environment's default still reaches them.
    expect((await h.app.services.store.chat('oc_group'))?.taskSync).toBeUndefined();

    // Everyone may now create to-dos: a plain member's /todo opens a form.
    await h.say('ou_member', '/todo water the plants');
    await h.settled();
    expect(formCards(h, 'ou_member')).toHaveLength(1);

    const again = await openSettings('ou_admin');
    expect(field(again?.card, 'digestTime')).toMatchObject({ default_value: '08:30' });
    expect(field(again?.card, 'whoCreates')).toMatchObject({ initial_option: 'everyone' });
    const unchanged = await submit('ou_admin', again as { messageId: string; card: unknown }, { digestTime: '08:30' });
    expect(unchanged.body.toast).toMatchObject({ type: 'info', content: 'Nothing changed.' });

    // Admins only again while the member's form is open: its Submit is asked again, refused, and posts nothing.
    const memberForm = formCards(h, 'ou_member').at(-1) as { messageId: string; card: unknown };
    const stricter = await openSettings('ou_admin');
    expect((await submit('ou_admin', stricter as { messageId: string; card: unknown }, { whoCreates: 'admins' })).body.toast.type).toBe('success');
    const refused = await submitForm(h, 'ou_member', memberForm, formValues({ text: 'water the plants' }));
    expect(refused.body.toast).toMatchObject({ type: 'error', content: 'Only the group owner and group admins can create to-dos here.' });
    await h.settled();
    expect(h.emu.callsTo('POST', '/open-apis/im/v1/messages')).toHaveLength(0);
    expect((await h.app.services.store.form(buttonValue(memberForm.card, 'todo.submit').formId as string))?.status).toBe('open');
    // Everyone again: the same form posts.
    const looser = await openSettings('ou_admin');
    expect((await submit('ou_admin', looser as { messageId: string; card: unknown }, { whoCreates: 'everyone' })).body.toast.type).toBe('success');
    expect((await submitForm(h, 'ou_member', memberForm, formValues({ text: 'water the plants' }))).body.toast.type).toBe('success');
  });

  it('saves from a client that sends the form without the button’s value: the name carries the language, the click’s chat the group', async () => {
    const card = await openSettings('ou_admin');
    if (!card) throw new Error('no settings card');
    const answer = await h.click('ou_admin', card.messageId, {}, { formValue: { digestTime: '07:45' }, name: submitButtonName(card.card) });
    expect(answer.body.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/07:45/) });
    expect(await h.app.services.store.chat('oc_group')).toMatchObject({ digestTime: '07:45' });
  });

  it('saves only what the admin changed on the form: another admin’s change since it opened stands', async () => {
    const mine = await openSettings('ou_admin');
    const theirs = await openSettings('ou_owner');
    if (!mine || !theirs) throw new Error('no settings card');
    expect(field(theirs.card, 'digestDays')).toMatchObject({ initial_option: 'daily' });
    expect((await submit('ou_owner', theirs, everyField(theirs.card, { digestDays: 'workdays' }))).body.toast.type).toBe('success');
    // The admin's form, opened before the owner's Save, still shows every day.
    const answer = await submit('ou_admin', mine, everyField(mine.card, { digestTime: '18:15' }));
    expect(answer.body.toast).toMatchObject({ type: 'success', content: 'Saved. Daily digest: 18:15.' });
    expect(await h.app.services.store.chat('oc_group')).toMatchObject({ digestDays: 'workdays', digestTime: '18:15' });
  });

  it('takes a second Save from the same card as a change from what the first wrote: an admin may undo their own change', async () => {
    // The group's digest time follows the environment's default: no value of its own.
    const { store } = h.app.services;
    const { digestTime: _, ...followingDefault } = (await store.chat('oc_group')) ?? { v: RECORD_VERSION, id: 'oc_group', updatedAt: 0 };
    expect((await store.commit({ now: Date.now(), chats: [followingDefault] })).ok).toBe(true);
    const mine = await openSettings('ou_admin');
    if (!mine) throw new Error('no settings card');
    const opened = String(field(mine.card, 'digestTime').default_value);
    expect((await submit('ou_admin', mine, everyField(mine.card, { digestTime: '07:45' }))).body.toast.type).toBe('success');
    // The card still shows what the admin typed; they put back the time it opened with and save again.
    const undo = await submit('ou_admin', mine, everyField(mine.card, { digestTime: opened }));
    expect(undo.body.toast).toMatchObject({ type: 'success', content: `Saved. Daily digest: ${opened}.` });
    // Undone, it follows the default again, rather than holding the default's value of the moment.
    expect((await store.chat('oc_group'))?.digestTime).toBeUndefined();
    // Saving it once more as it now stands changes nothing.
    expect((await submit('ou_admin', mine, everyField(mine.card, { digestTime: opened }))).body.toast.type).toBe('info');
  });

  it('saves the value typed back when another admin changed the field in between, rather than restore theirs', async () => {
    const mine = await openSettings('ou_admin');
    const theirs = await openSettings('ou_owner');
    if (!mine || !theirs) throw new Error('no settings card');
    const opened = String(field(mine.card, 'digestTime').default_value);
    expect((await submit('ou_owner', theirs, everyField(theirs.card, { digestTime: '06:10' }))).body.toast.type).toBe('success');
    expect((await submit('ou_admin', mine, everyField(mine.card, { digestTime: '07:20' }))).body.toast.type).toBe('success');
    const back = await submit('ou_admin', mine, everyField(mine.card, { digestTime: opened }));
    expect(back.body.toast).toMatchObject({ type: 'success', content: `Saved. Daily digest: ${opened}.` });
    expect((await h.app.services.store.chat('oc_group'))?.digestTime).toBe(opened);
  });

  it('reads times typed with a Chinese input method: a full-width colon and digits', async () => {
    const card = await openSettings('ou_admin');
    if (!card) throw new Error('no settings card');
    const answer = await submit('ou_admin', card, { digestTime: '１７：４５', tomorrowTime: '8：30' });
    expect(answer.body.toast.type).toBe('success');
    expect(await h.app.services.store.chat('oc_group')).toMatchObject({ digestTime: '17:45', tomorrowTime: '08:30' });
  });

  it('refuses a bad value with a red toast naming the field, and saves nothing', async () => {
    const card = await openSettings('ou_admin');
    if (!card) throw new Error('no settings card');
    const before = await h.app.services.store.chat('oc_group');
    for (const [formValue, named] of [
      [{ digestTime: '25:00', nudgeAfterHours: '5' }, /^Daily digest: write a time/],
      [{ nudgeAfterHours: '0' }, /^Overdue nudges: write a whole number of hours/],
      [{ timeZone: 'Mars/Olympus' }, /^Time zone: write an IANA zone/],
      [{ timeZone: 'CST' }, /not an abbreviation such as CST/],
      [{ tomorrowTime: 'noon' }, /^"Tomorrow" time: write a time/],
      [{ whoCreates: 'robots' }, /^Who may create to-dos: choose/],
    ] as const) {
      const answer = await submit('ou_admin', card, formValue);
      expect(answer.body.toast.type).toBe('error');
      expect(answer.body.toast.content).toMatch(named);
      expect(answer.body.toast.i18n.zh_cn).toBeTruthy();
    }
    expect(await h.app.services.store.chat('oc_group')).toEqual(before);
  });

  it('refuses a Save by someone who is not an admin, and a Save reported from another chat', async () => {
    const card = await openSettings('ou_admin');
    if (!card) throw new Error('no settings card');
    const before = await h.app.services.store.chat('oc_group');
    const member = await submit('ou_member', card, { digestTime: 'off' });
    expect(member.body.toast).toMatchObject({ type: 'error', content: "Only the group owner and group admins can change this group's settings." });
    const elsewhere = await h.click('ou_admin', card.messageId, saveValue(card.card), { formValue: { digestTime: 'off' }, chatId: 'oc_other' });
    expect(elsewhere.body.toast).toMatchObject({
      type: 'error',
      content: 'This settings form belongs to another chat; send /settings in the group you want to change.',
    });
    expect(await h.app.services.store.chat('oc_group')).toEqual(before);
  });

  it('keeps the settings across a restart and an export and import', async () => {
    const card = await openSettings('ou_admin');
    if (!card) throw new Error('no settings card');
    await submit('ou_admin', card, { digestTime: 'off', nudgeAfterHours: '6' });
    const exported: ExportedRecord[] = [];
    await h.restart(async () => {
      const source = new EmbeddedStore(new FilePersistence(h.config.dataFile));
      await source.open();
      for await (const record of source.exportRecords()) exported.push(record);
      await source.close();
    });
    expect(await h.app.services.store.chat('oc_group')).toMatchObject({ digestTime: 'off', nudgeAfterHours: 6, timeZone: 'Europe/Berlin' });
    const reopened = await openSettings('ou_admin');
    expect(field(reopened?.card, 'nudgeAfterHours')).toMatchObject({ default_value: '6' });

    const target = new EmbeddedStore(new FilePersistence(join(h.config.dataFile, '..', 'imported.json')));
    await target.open();
    await target.importRecords(
      (async function* () {
        yield* exported;
      })(),
    );
    expect(await target.chat('oc_group')).toMatchObject({ digestTime: 'off', nudgeAfterHours: 6, timeZone: 'Europe/Berlin', whoCreates: 'everyone' });
    await target.close();
  });
});
