import { createHash } from 'node:crypto';
import type { Language } from './languages';
import { RECORD_VERSION, TODO_TEXT_LIMIT, type Todo, type TodoForm } from './model';
import { REPEATS, type Repeat, offsetMinutesAt } from './time';
import { canonicalZone, parseFixedOffset } from './zones';

/**
 * The form's rules as pure functions on plain records: who may do what, and what a submission must hold.
 * Storage and Feishu calls live elsewhere; these return the next records or the reason for a refusal. A reason is a
 * message key of the bot's catalogs and its values, never a sentence: the bot says it in the person's language.
 */

export type RefusalKey =
  | 'refusal.gone'
  | 'refusal.notOwner'
  | 'refusal.otherChat'
  | 'refusal.submitting'
  | 'refusal.posted'
  | 'refusal.cancelled'
  | 'refusal.expired'
  | 'refusal.replaced'
  | 'refusal.empty'
  | 'refusal.tooLong'
  | 'refusal.badTime'
  | 'refusal.pastTime'
  | 'refusal.badRepeat'
  | 'refusal.repeatNeedsTime'
  | 'refusal.tooManyAssignees'
  | 'refusal.badAssignee';

export interface Refusal {
  ok: false;
  reason: { key: RefusalKey; values?: Readonly<Record<string, number>> };
  tone: 'error' | 'warning' | 'info';
}
export type Outcome<T> = { ok: true; value: T } | Refusal;

/** The form container's name; a submit callback's `action.form_value` is keyed by the field names below. */
export const FORM_NAME = 'todo_form';
export const FORM_FIELDS = { text: 'todo_text', remindAt: 'remind_at', repeat: 'repeat', assignees: 'assignees' } as const;

const refuse = (key: RefusalKey, tone: Refusal['tone'] = 'error', values?: Record<string, number>): Refusal => ({
  ok: false,
  reason: values ? { key, values } : { key },
  tone,
});

/**
 * A form's card key: 12 hex digits of its id's SHA-256. The form's Submit and Cancel buttons are named
 * `submit_<key>` and `cancel_<key>`, because Feishu returns the clicked button's `name` on a form submit even when a
 * client drops the button's `value`. Feishu documents no rule for `name` beyond being non-empty and unique in the
 * card; its strictest identifier rule (`element_id`: letters, digits and underscores, starting with a letter, at most
 * 20 characters) holds for these 19 characters, which a full form id (37 characters, with `-`) would not.
 */
export function formCardKey(formId: string): string {
  return createHash('sha256').update(formId).digest('hex').slice(0, 12);
}

/** What each of the form's buttons asks for, by the word that starts its name. */
const BUTTON_ACTIONS = { submit: 'todo.submit', cancel: 'todo.cancel' } as const;
type FormButton = keyof typeof BUTTON_ACTIONS;

/** The name of the form's Submit or Cancel button: both are submit buttons of the form, told apart by name. */
export function formButtonName(button: FormButton, formId: string): string {
  return `${button}_${formCardKey(formId)}`;
}

/** What a form button's name asks for and the card key it carries, or undefined for any other name. */
export function readFormButtonName(name: string | undefined): { action: (typeof BUTTON_ACTIONS)[FormButton]; cardKey: string } | undefined {
  const match = /^(submit|cancel)_([0-9a-f]{12})$/.exec(name ?? '');
  return match ? { action: BUTTON_ACTIONS[match[1] as FormButton], cardKey: match[2] as string } : undefined;
}

export function newForm(p: { id: string; chatId: string; ownerId: string; draftText: string; language: Language; now: number; ttlMs: number }): TodoForm {
  return {
    v: RECORD_VERSION,
    id: p.id,
    chatId: p.chatId,
    ownerId: p.ownerId,
    status: 'open',
    draftText: p.draftText.slice(0, TODO_TEXT_LIMIT),
    language: p.language,
    createdAt: p.now,
    updatedAt: p.now,
    expiresAt: p.now + p.ttlMs,
  };
}

export function close(form: TodoForm, status: 'cancelled' | 'expired' | 'replaced' | 'posted', now: number): TodoForm {
  return { ...form, status, updatedAt: now };
}

/**
 * Remembers the card a click came from when it is not one the bot knows, so that it is deleted with the form. Only
 * a card proven to be this form's: the click named this form (its button's value or name, which only this form's
 * cards carry), its owner made it (a form card is shown to its owner alone; see `checkActor`), and Feishu reports
 * it in the form's chat. A click that does not say where it was is not enough to delete anything.
 */
export function noteClickedCard(form: TodoForm, click: { messageId?: string | undefined; chatId?: string | undefined }): TodoForm {
  const { messageId } = click;
  if (!messageId || click.chatId !== formCardChatId(form)) return form;
  if (messageId === form.messageId || form.strayMessageIds?.includes(messageId)) return form;
  return { ...form, strayMessageIds: [...(form.strayMessageIds ?? []), messageId] };
}

/**
 * The chat the form's card is in, where its clicks come from: the group for an ephemeral card, the bot's direct chat
 * with the owner for a form sent by direct message (undefined until it was sent).
 */
export function formCardChatId(form: TodoForm): string | undefined {
  return form.delivery?.kind === 'direct' ? form.delivery.chatId : form.chatId;
}

/** Every card of this form that should disappear when it closes. */
export function formCardIds(form: TodoForm): string[] {
  return [...(form.messageId ? [form.messageId] : []), ...(form.strayMessageIds ?? [])];
}

const CLOSED_REASON: Record<Exclude<TodoForm['status'], 'open'>, RefusalKey> = {
  submitting: 'refusal.submitting',
  posted: 'refusal.posted',
  cancelled: 'refusal.cancelled',
  expired: 'refusal.expired',
  replaced: 'refusal.replaced',
};

/** May `operatorId` act on this form now, from a card in `chatId` (when the click says)? */
export function checkActor(form: TodoForm | undefined, operatorId: string, chatId?: string): Outcome<TodoForm> {
  if (!form) return refuse('refusal.gone', 'warning');
  if (form.ownerId !== operatorId) return refuse('refusal.notOwner');
  // A form sent by direct message acts on its own group's form from the direct chat, and from nowhere else.
  if (chatId !== undefined && chatId !== formCardChatId(form)) return refuse('refusal.otherChat');
  if (form.status !== 'open') return refuse(CLOSED_REASON[form.status], form.status === 'posted' || form.status === 'submitting' ? 'info' : 'warning');
  return { ok: true, value: form };
}

export interface Submission {
  text: string;
  remindAt?: number | undefined;
  repeat: Repeat;
  timeZone: string;
  assigneeIds: string[];
}

/** Most assignees one to-do takes: each gets a mention on the card and a feed card. */
export const ASSIGNEE_LIMIT = 50;

/** An open_id as Feishu writes them (`ou_` and 32 hex digits), with room to spare, and nothing else. */
const OPEN_ID = /^ou_[A-Za-z0-9_-]{1,61}$/;

/** Where a person's zone may come from, best first. Each is canonical or absent. */
export interface ZoneHints {
  /** The clicking device's zone, from the callback (Feishu documents it for picker interactions only). */
  device?: string | undefined;
  /** The zone in the person's Feishu profile. */
  profile?: string | undefined;
  /** The group's zone (`/settings`; `DEFAULT_TIME_ZONE` until an admin chooses one). */
  fallback: string;
}

/**
 * The zone a submission's times are shown and repeated in: the device's, else the profile's, else the default.
 * The picker's value carries its own offset, which fixes the instant. The default is a guess about nobody in
 * particular, so when its offset at the picked instant disagrees with the picker's, the picker's offset is the
 * truer zone and is kept instead.
 */
export function submissionZone(hints: ZoneHints, picked?: { at: number; offset: string }): string {
  const known = canonicalZone(hints.device) ?? canonicalZone(hints.profile);
  if (known !== undefined) return known;
  const fallback = canonicalZone(hints.fallback) ?? 'UTC';
  if (picked && offsetMinutesAt(picked.at, fallback) !== parseFixedOffset(picked.offset)) return picked.offset;
  return fallback;
}

/**
 * Reads the form's fields. The picker's value carries its own offset ("2026-11-24 09:00 +0800"), which fixes the
 * instant; the zone kept with the to-do, for showing times and repeating them, is `submissionZone`'s.
 */
export function readSubmission(formValue: Record<string, unknown>, p: { now: number; zones: ZoneHints }): Outcome<Submission> {
  const rawText = formValue[FORM_FIELDS.text];
  const text = typeof rawText === 'string' ? rawText.trim() : '';
  if (text === '') return refuse('refusal.empty');
  if ([...text].length > TODO_TEXT_LIMIT) return refuse('refusal.tooLong', 'error', { count: TODO_TEXT_LIMIT });

  const rawWhen = formValue[FORM_FIELDS.remindAt];
  let picked: { at: number; offset: string } | undefined;
  if (typeof rawWhen === 'string' && rawWhen.trim() !== '') {
    picked = parsePickerDateTime(rawWhen.trim());
    if (!picked) return refuse('refusal.badTime');
    if (picked.at <= p.now) return refuse('refusal.pastTime');
  }
  const remindAt = picked?.at;

  const rawRepeat = formValue[FORM_FIELDS.repeat];
  const repeat = REPEATS.find((r) => r === rawRepeat) ?? 'none';
  if (rawRepeat !== undefined && rawRepeat !== '' && rawRepeat !== repeat) return refuse('refusal.badRepeat');
  if (repeat !== 'none' && remindAt === undefined) return refuse('refusal.repeatNeedsTime');

  const rawAssignees = formValue[FORM_FIELDS.assignees];
  const list: unknown[] = Array.isArray(rawAssignees) ? rawAssignees : typeof rawAssignees === 'string' && rawAssignees ? [rawAssignees] : [];
  if (list.length > ASSIGNEE_LIMIT) return refuse('refusal.tooManyAssignees', 'error', { count: ASSIGNEE_LIMIT });
  if (!list.every((id) => typeof id === 'string' && OPEN_ID.test(id))) return refuse('refusal.badAssignee');
  const assigneeIds = [...new Set(list as string[])];

  return { ok: true, value: { text, remindAt, repeat, timeZone: submissionZone(p.zones, picked), assigneeIds } };
}

/** Parses Feishu's `yyyy-MM-dd HH:mm ±hhmm` into a UTC instant and its offset ("+08:00"). */
export function parsePickerDateTime(value: string): { at: number; offset: string } | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2})(?::(\d{2}))? ([+-])(\d{2}):?(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, sign, oh, om] = m as unknown as string[];
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  const check = new Date(local);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Math.abs(offsetMinutes) > 14 * 60) {
    return undefined;
  }
  return { at: local - offsetMinutes * 60_000, offset: `${sign}${oh}:${om}` };
}

export function newTodo(p: { id: string; form: TodoForm; submission: Submission; now: number }): Todo {
  const replyTo = p.form.replyTo ?? p.form.source?.messageId;
  return {
    v: RECORD_VERSION,
    id: p.id,
    formId: p.form.id,
    chatId: p.form.chatId,
    creatorId: p.form.ownerId,
    text: p.submission.text,
    remindAt: p.submission.remindAt,
    repeat: p.submission.repeat,
    repeatAnchor: p.submission.repeat !== 'none' ? p.submission.remindAt : undefined,
    timeZone: p.submission.timeZone,
    assigneeIds: p.submission.assigneeIds,
    status: 'posting',
    ...(p.form.language !== undefined && { language: p.form.language }),
    ...(p.form.source !== undefined && { source: p.form.source }),
    ...(replyTo !== undefined && { replyTo }),
    ...(p.form.threadId !== undefined && { threadId: p.form.threadId }),
    createdAt: p.now,
    updatedAt: p.now,
  };
}
