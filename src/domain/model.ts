import type { GroupSettings } from './group-settings';
import type { Language } from './languages';
import type { Repeat } from './time';

/**
 * The bot's domain records. Plain JSON: they are what the store persists and what cards render.
 * Feishu's own names (open_id, chat_id, message_id) stay at the edge; here they are ids of people,
 * chats and messages.
 */

/** Bumped when a stored shape changes; a record of another version is read as expired, never misread. */
export const RECORD_VERSION = 1;

/** Longest to-do text the form accepts (the input's `max_length` and the server-side check). */
export const TODO_TEXT_LIMIT = 500;

/**
 * A form's life: open → submitting → posted, or open → cancelled | expired | replaced.
 * `submitting` is entered by the one Submit click that wins; any later click finds it taken.
 */
export type FormStatus = 'open' | 'submitting' | 'posted' | 'cancelled' | 'expired' | 'replaced';

/**
 * Every stored record carries the revision it was read at. The store writes a changed copy only if the stored record
 * still has that revision, and bumps it: a record changes only from the state it was read in, in any instance.
 */
export interface Revised {
  /** Absent on a record never stored. */
  rev?: number;
}

export interface TodoForm extends Revised {
  v: typeof RECORD_VERSION;
  id: string;
  chatId: string;
  /** The admin the ephemeral card was sent to; only they may submit or cancel it. */
  ownerId: string;
  status: FormStatus;
  /** Text prefilled from `/todo <text>`. */
  draftText: string;
  /**
   * When that text was written (the `/todo`'s sending, or that of the message it replied to, whose words it took): the
   * times it names count from then, so a command Feishu delivered late (it retries for hours while the bot is down)
   * does not move them, nor does a reply to yesterday's "tomorrow 3pm".
   */
  draftWrittenAt?: number;
  /** The ephemeral card's message id, known once the send succeeded. */
  messageId?: string;
  /**
   * Form cards Feishu showed whose send answer never arrived (an ephemeral send has no `uuid`, so a retry after a
   * lost answer shows a second card). A click on one carries its id; it is kept here so the card is deleted too.
   */
  strayMessageIds?: string[];
  /** The to-do this form produced, once submitted. */
  todoId?: string;
  /**
   * The zone in the owner's Feishu profile, looked up while the form was sent, so that Submit is answered from
   * stored state; absent when unknown.
   */
  ownerTimeZone?: string;
  /** The language the form card is written in (the `/todo` command's): its clicks and notices answer in it. */
  language?: Language;
  /** The `/todo` message that opened the form: recalling it closes the form. */
  commandMessageId?: string;
  /** The message `/todo` replied to, whose words prefilled the form; the to-do keeps it. */
  source?: MessageSource;
  /** The message the to-do card is posted as a reply to (see `Todo.replyTo`). */
  replyTo?: string;
  /** The topic the `/todo` was sent in (see `Todo.threadId`). */
  threadId?: string;
  /**
   * Where the form card was shown: privately in the group (an ephemeral card, the default), or by direct message
   * (topic groups, where Feishu has no ephemeral cards). A direct message's clicks come from that direct chat.
   */
  delivery?: FormDelivery;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
}

/** How a form card reaches its owner. */
export type FormDelivery = { kind: 'ephemeral' } | { kind: 'direct'; chatId?: string };

/** A chat message a to-do was made from. */
export interface MessageSource {
  messageId: string;
  /** Its sender: a person's open_id, or an app id when a bot wrote it. */
  senderId?: string;
  senderType?: 'user' | 'app';
  /** Its sender's name as Feishu gave it when the message was read, for `/todos` ("from Bea Li's message"). */
  senderName?: string;
}

/** A card message the bot sent for a to-do, and when: Feishu lets a card be clicked and updated for 14 days. */
export interface CardMessage {
  messageId: string;
  sentAt: number;
}

export type TodoStatus = 'posting' | 'open' | 'done' | 'recalled' | 'post_failed';

export interface Todo extends Revised {
  v: typeof RECORD_VERSION;
  id: string;
  formId: string;
  chatId: string;
  creatorId: string;
  text: string;
  /** The next reminder, in UTC milliseconds; absent when none is due any more (or none was chosen). */
  remindAt?: number | undefined;
  /** How the reminder repeats; a repeating one keeps the wall-clock time of `repeatAnchor` in `timeZone`. */
  repeat?: Repeat;
  repeatAnchor?: number | undefined;
  /** When the latest reminder was posted. */
  lastRemindedAt?: number;
  /** The time of the latest reminder occurrence claimed (its due time, even when posted late). */
  lastDueAt?: number;
  /** Overdue nudges posted for it (at most `NUDGE_LIMIT`), and when the latest was claimed. */
  nudges?: number;
  lastNudgedAt?: number;
  /**
   * The canonical zone the to-do's times are shown and repeated in: the creator's device's, their profile's,
   * `DEFAULT_TIME_ZONE`, or the picker's fixed offset such as "+08:00" (see `submissionZone`).
   */
  timeZone: string;
  assigneeIds: string[];
  status: TodoStatus;
  /** The group card's message id, once posted. */
  messageId?: string;
  /**
   * The to-do's current card: the one Done, Reopen, `/recall` and updates act on. Set when the card is posted, and
   * moved to a reminder that took over from a card too old for Feishu to update. Read it through `currentCard`, which
   * also covers to-dos posted before it existed.
   */
  currentCard?: CardMessage;
  /** The message the to-do was made from (`/todo` sent as a reply to it). */
  source?: MessageSource;
  /**
   * The message the card is posted as a reply to: the source message, or in a topic group the command, so that the
   * card (and its reminders, which reply to it) stay in the command's topic.
   */
  replyTo?: string;
  /** The topic (thread) the `/todo` was sent in: `/recall` typed in that topic finds the to-do there. */
  threadId?: string;
  createdAt: number;
  updatedAt: number;
  doneBy?: string | undefined;
  doneAt?: number | undefined;
  recalledBy?: string;
  recalledAt?: number;
  /** Assignees who have a live app feed card for this to-do; emptied when it is done or recalled. */
  feedCardUserIds?: string[];
  /** The to-do's Feishu Task, once created (task sync on for its group): see src/domain/task-sync.ts. */
  task?: TodoTask | undefined;
  /** How it was last marked done: on a card (absent), or in Feishu Task, where nobody is named. */
  doneVia?: 'feishu_task' | undefined;
  /**
   * The language of its form. Group cards carry both languages; this one fills their default `content` and the feed
   * cards, which take one language only.
   */
  language?: Language;
}

/**
 * A to-do's Feishu Task, as the bot last made it or read it. Comparing the task as read with this tells a change made
 * in Feishu Task from the bot's own change coming back (Feishu sends its event for both).
 */
export interface TodoTask {
  guid: string;
  /** An applink that opens the task in Feishu ("Open in Feishu Task"). */
  url: string;
  /** Whether the task was completed when the bot last wrote or read it. */
  completed: boolean;
  /** The task's due when the bot last wrote or read it (ms); absent: none. */
  dueAt?: number | undefined;
  /** That due was a date (set in Feishu Task as all-day): the to-do reminds at `ALL_DAY_REMINDER` on it. */
  dueAllDay?: true | undefined;
  /** Deleted in Feishu Task: the card says so, the to-do stays open in the group, and nothing syncs any more. */
  deletedThere?: boolean | undefined;
}

/** A chat's record with `changes`: the record read, or a new one for a chat the bot has kept nothing of yet. */
export function changedChat(record: ChatSettings | undefined, chatId: string, changes: Partial<ChatSettings> & { updatedAt: number }): ChatSettings {
  return { ...(record ?? { v: RECORD_VERSION, id: chatId }), ...changes };
}

/**
 * A chat's record: what its admins chose for it (`/settings`, `/lang`; read through `resolveSettings`), kept beside
 * the bot's own bookkeeping for the chat. A language chosen with `/lang` before `/settings` existed is the same field.
 */
export interface ChatSettings extends Revised, GroupSettings {
  v: typeof RECORD_VERSION;
  /** The chat id. */
  id: string;
  updatedAt: number;
  /**
   * The time of the latest daily digest claimed for the chat: claiming it is a write of this record from the revision
   * read, so with several instances one claims each day's digest.
   */
  lastDigestAt?: number;
  /** The zone that digest was claimed in: a day is that zone's, and a group that moved zone is judged by the slot. */
  lastDigestZone?: string;
  /** When the admin who made a to-do here was told which scope task sync lacks: once per group. */
  taskScopeNoticeAt?: number;
  /**
   * When the bot was removed from the chat, or the chat disbanded: nothing is posted there (digests, nudges,
   * reminders) until the bot is added again, which clears it.
   */
  botLeftAt?: number | undefined;
  /** When Feishu made the latest membership event the record follows (ms): an older one redelivered is ignored. */
  botMembershipAt?: number | undefined;
  /**
   * The settings card the latest Save came from, and what Saves from it wrote: the card still carries the values it
   * opened with, so its next Save is compared with these (an admin undoing their own change is a change).
   */
  savedFrom?: { messageId: string; values: GroupSettings; before?: Record<string, string | number | null> } | undefined;
  /** People's latest joining or leaving the chat that Feishu told of, by open_id (see `chat-members.ts`). */
  memberChanges?: Record<string, MemberChange> | undefined;
}

/** A person joined (`left: false`) or left a chat, as of `at`: when Feishu made the event (ms). */
export interface MemberChange {
  left: boolean;
  at: number;
}

/** Who may open the form: group admins only, or every member. */
export type TodoAllowed = 'admins' | 'everyone';
