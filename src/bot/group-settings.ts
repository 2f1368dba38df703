import type { SnoozeChoices } from '../../cards/reminder';
import { membersWhoLeft } from '../domain/chat-members';
import { reminderTookOver } from '../domain/current-card';
import { type EffectiveSettings, resolveSettings } from '../domain/group-settings';
import type { Todo } from '../domain/model';
import type { Services } from './services';

/**
 * A chat's effective settings: what its admins chose (`/settings`, `/lang`), else the environment's defaults. The one
 * place the bot reads them, so every feature sees the same answer. Without a chat (a click Feishu reported without
 * one), the defaults.
 */
export async function groupSettings(services: Pick<Services, 'store' | 'config'>, chatId: string | undefined): Promise<EffectiveSettings> {
  return resolveSettings(chatId === undefined ? undefined : await services.store.chat(chatId), services.config.groupDefaults);
}

/** Whether the bot was removed from the chat (or it was disbanded): nothing is posted there until it is added again. */
export async function botLeftChat(services: Pick<Services, 'store'>, chatId: string): Promise<boolean> {
  return (await services.store.chat(chatId))?.botLeftAt !== undefined;
}

/** The people who left the chat, as Feishu's member events told: what the bot posts there does not mention them. */
export async function membersWhoLeftChat(services: Pick<Services, 'store'>, chatId: string): Promise<ReadonlySet<string>> {
  return membersWhoLeft(await services.store.chat(chatId));
}

/**
 * How the to-do's card looks where a reminder took it over: with the reminder's buttons and line, mentioning those
 * still in the chat. Nothing for a card that is still the posted one.
 */
export async function takenOverLook(
  services: Pick<Services, 'store' | 'config'>,
  todo: Todo,
): Promise<{ asReminder?: SnoozeChoices; left?: ReadonlySet<string> }> {
  if (!reminderTookOver(todo)) return {};
  // One read of the chat's record: a click waits on it.
  const chat = await services.store.chat(todo.chatId);
  return { asReminder: { tomorrowTime: resolveSettings(chat, services.config.groupDefaults).tomorrowTime }, left: membersWhoLeft(chat) };
}

/** What a card's Tomorrow button shows and sets: the group's "Tomorrow" time. */
export async function snoozeChoices(services: Pick<Services, 'store' | 'config'>, chatId: string): Promise<SnoozeChoices> {
  return { tomorrowTime: (await groupSettings(services, chatId)).tomorrowTime };
}
