import { describe, expect, it } from 'vitest';
import { TODO_TEXT_LIMIT } from '../../src/domain/model';
import {
  ASSIGNEE_LIMIT,
  FORM_FIELDS,
  checkActor,
  close,
  formButtonName,
  formCardKey,
  newForm,
  newTodo,
  noteClickedCard,
  parsePickerDateTime,
  readFormButtonName,
  readSubmission,
} from '../../src/domain/todo-form';

const now = Date.UTC(2026, 10, 23, 12, 0); // 2026-11-23 12:00 UTC
const form = newForm({ id: 'f1', chatId: 'oc_1', ownerId: 'ou_admin', draftText: 'Ship it', language: 'zh_cn', now, ttlMs: 60_000 });

describe('form transitions', () => {
  it('opens with the draft, the owner and an expiry', () => {
    expect(form).toMatchObject({ status: 'open', draftText: 'Ship it', ownerId: 'ou_admin', language: 'zh_cn', expiresAt: now + 60_000 });
  });

  it('lets only the owner act, and only while open', () => {
    expect(checkActor(form, 'ou_admin')).toEqual({ ok: true, value: form });
    expect(checkActor(form, 'ou_other')).toMatchObject({ ok: false, reason: { key: 'refusal.notOwner' } });
    expect(checkActor(undefined, 'ou_admin')).toMatchObject({ ok: false, tone: 'warning' });
    for (const status of ['cancelled', 'expired', 'replaced'] as const) {
      expect(checkActor(close(form, status, now), 'ou_admin')).toMatchObject({ ok: false, tone: 'warning' });
    }
    expect(checkActor({ ...form, status: 'submitting' }, 'ou_admin')).toMatchObject({ ok: false, tone: 'info' });
    expect(checkActor(close(form, 'posted', now), 'ou_admin')).toMatchObject({ ok: false, reason: { key: 'refusal.posted' } });
  });

  it('refuses a click reported from another chat', () => {
    expect(checkActor(form, 'ou_admin', 'oc_1')).toEqual({ ok: true, value: form });
    expect(checkActor(form, 'ou_admin', 'oc_other')).toMatchObject({ ok: false, tone: 'error', reason: { key: 'refusal.otherChat' } });
  });

  it('notes a clicked card as a stray copy only when the click is in the form’s chat', () => {
    const sent = { ...form, messageId: 'om_known' };
    expect(noteClickedCard(sent, { messageId: 'om_copy', chatId: 'oc_1' }).strayMessageIds).toEqual(['om_copy']);
    expect(noteClickedCard(sent, { messageId: 'om_known', chatId: 'oc_1' })).toBe(sent);
    expect(noteClickedCard(sent, { messageId: 'om_elsewhere', chatId: 'oc_other' })).toBe(sent);
    expect(noteClickedCard(sent, { messageId: 'om_nowhere' })).toBe(sent);
    const noted = noteClickedCard(sent, { messageId: 'om_copy', chatId: 'oc_1' });
    expect(noteClickedCard(noted, { messageId: 'om_copy', chatId: 'oc_1' })).toBe(noted);
  });

  it('names Submit and Cancel after the form and the action, within Feishu’s strictest identifier rule', () => {
    const formId = 'form_Ab-_9xYz0123456789abcdefghijklmnopq';
    const cardKey = formCardKey(formId);
    for (const [button, action] of [
      ['submit', 'todo.submit'],
      ['cancel', 'todo.cancel'],
    ] as const) {
      const name = formButtonName(button, formId);
      expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,19}$/);
      expect(readFormButtonName(name)).toEqual({ action, cardKey });
      expect(formButtonName(button, 'form_a')).not.toBe(formButtonName(button, 'form_b'));
    }
    expect(formButtonName('submit', formId)).not.toBe(formButtonName('cancel', formId));
    for (const other of [undefined, 'submit', 'submit_XYZ', `submit_${cardKey}x`, 'reset_0123456789ab', 'settings_save']) {
      expect(readFormButtonName(other)).toBeUndefined();
    }
  });
});

describe('readSubmission', () => {
  const values = (v: Record<string, unknown>) => ({ [FORM_FIELDS.text]: 'Write notes', ...v });
  /** Nothing known about the person: the zone is the configured default, UTC here. */
  const unknown = { now, zones: { fallback: 'UTC' } };

  it('reads text, a reminder with its offset, assignees and the zone', () => {
    const result = readSubmission(values({ [FORM_FIELDS.remindAt]: '2026-11-24 09:30 +0800', [FORM_FIELDS.assignees]: ['ou_a', 'ou_b', 'ou_a'] }), {
      now,
      zones: { device: 'Asia/Shanghai', fallback: 'UTC' },
    });
    expect(result).toEqual({
      ok: true,
      value: { text: 'Write notes', remindAt: Date.UTC(2026, 10, 24, 1, 30), repeat: 'none', timeZone: 'Asia/Shanghai', assigneeIds: ['ou_a', 'ou_b'] },
    });
  });

  it('allows no reminder and no assignees', () => {
    expect(readSubmission(values({ [FORM_FIELDS.remindAt]: '' }), unknown)).toEqual({
      ok: true,
      value: { text: 'Write notes', remindAt: undefined, repeat: 'none', timeZone: 'UTC', assigneeIds: [] },
    });
  });

  it('takes the zone from the device, else the profile, else the default (in its canonical spelling)', () => {
    const at = values({ [FORM_FIELDS.remindAt]: '2026-11-24 09:30 +0800' });
    const zoneOf = (zones: Parameters<typeof readSubmission>[1]['zones']) => {
      const result = readSubmission(at, { now, zones });
      return result.ok ? result.value.timeZone : result.reason;
    };
    expect(zoneOf({ device: 'Asia/Singapore', profile: 'Asia/Tokyo', fallback: 'Asia/Shanghai' })).toBe('Asia/Singapore');
    expect(zoneOf({ profile: 'asia/tokyo', fallback: 'Asia/Shanghai' })).toBe('Asia/Tokyo');
    expect(zoneOf({ device: 'Not/AZone', fallback: 'asia/shanghai' })).toBe('Asia/Shanghai');
  });

  it('prefers the picker’s own offset to a default zone whose offset disagrees at the picked instant', () => {
    const result = readSubmission(values({ [FORM_FIELDS.remindAt]: '2026-11-24 09:30 -0500' }), { now, zones: { fallback: 'Asia/Shanghai' } });
    expect(result).toMatchObject({ ok: true, value: { timeZone: '-05:00', remindAt: Date.UTC(2026, 10, 24, 14, 30) } });
    // New York in winter is -05:00 too: the default agrees, and its name (with its DST rules) is kept.
    const agreeing = readSubmission(values({ [FORM_FIELDS.remindAt]: '2026-11-24 09:30 -0500' }), { now, zones: { fallback: 'America/New_York' } });
    expect(agreeing).toMatchObject({ ok: true, value: { timeZone: 'America/New_York' } });
    // A profile zone is the person's own: it is kept even if the device was elsewhere when picking.
    const travelling = readSubmission(values({ [FORM_FIELDS.remindAt]: '2026-11-24 09:30 -0500' }), {
      now,
      zones: { profile: 'Asia/Shanghai', fallback: 'UTC' },
    });
    expect(travelling).toMatchObject({ ok: true, value: { timeZone: 'Asia/Shanghai', remindAt: Date.UTC(2026, 10, 24, 14, 30) } });
  });

  it('refuses empty, whitespace-only and over-long text', () => {
    expect(readSubmission({}, unknown)).toMatchObject({ ok: false, reason: { key: 'refusal.empty' } });
    expect(readSubmission({ [FORM_FIELDS.text]: '   ' }, unknown)).toMatchObject({ ok: false });
    expect(readSubmission({ [FORM_FIELDS.text]: 'x'.repeat(TODO_TEXT_LIMIT + 1) }, unknown)).toMatchObject({
      ok: false,
      reason: { key: 'refusal.tooLong', values: { count: TODO_TEXT_LIMIT } },
    });
    expect(readSubmission({ [FORM_FIELDS.text]: 'x'.repeat(TODO_TEXT_LIMIT) }, unknown)).toMatchObject({ ok: true });
  });

  it('refuses a reminder in the past or unreadable', () => {
    expect(readSubmission(values({ [FORM_FIELDS.remindAt]: '2026-11-23 19:59 +0800' }), unknown)).toMatchObject({
      ok: false,
      reason: { key: 'refusal.pastTime' },
    });
    expect(readSubmission(values({ [FORM_FIELDS.remindAt]: 'tomorrow' }), unknown)).toMatchObject({ ok: false, reason: { key: 'refusal.badTime' } });
  });

  it('refuses assignees that are not open ids of a sane length', () => {
    for (const bad of ['<at id=all>', 'ou_', `ou_${'a'.repeat(62)}`, 'all', 42]) {
      expect(readSubmission(values({ [FORM_FIELDS.assignees]: ['ou_a', bad] }), unknown)).toMatchObject({ ok: false, tone: 'error' });
    }
    expect(readSubmission(values({ [FORM_FIELDS.assignees]: [`ou_${'a'.repeat(61)}`] }), unknown)).toMatchObject({ ok: true });
  });

  it(`takes at most ${ASSIGNEE_LIMIT} assignees, and says so`, () => {
    const people = (n: number) => Array.from({ length: n }, (_, i) => `ou_${i}`);
    expect(readSubmission(values({ [FORM_FIELDS.assignees]: people(ASSIGNEE_LIMIT) }), unknown)).toMatchObject({ ok: true });
    expect(readSubmission(values({ [FORM_FIELDS.assignees]: people(ASSIGNEE_LIMIT + 1) }), unknown)).toMatchObject({
      ok: false,
      tone: 'error',
      reason: { key: 'refusal.tooManyAssignees', values: { count: 50 } },
    });
  });

  it('makes a posting to-do from the form', () => {
    const todo = newTodo({ id: 't1', form, submission: { text: 'x', repeat: 'none', timeZone: 'UTC', assigneeIds: [] }, now });
    expect(todo.language).toBe('zh_cn');
    expect(todo).toMatchObject({ id: 't1', formId: 'f1', chatId: 'oc_1', creatorId: 'ou_admin', status: 'posting' });
  });
});

describe('parsePickerDateTime', () => {
  it('parses offsets with and without a colon, and rejects impossible dates', () => {
    expect(parsePickerDateTime('2024-04-29 07:07 +0800')).toEqual({ at: Date.UTC(2024, 3, 28, 23, 7), offset: '+08:00' });
    expect(parsePickerDateTime('2024-04-29 07:07 +05:30')?.offset).toBe('+05:30');
    expect(parsePickerDateTime('2024-02-30 07:07 +0800')).toBeUndefined();
    expect(parsePickerDateTime('2024-04-29 25:07 +0800')).toBeUndefined();
  });
});
