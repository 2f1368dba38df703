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

/** What posting in a chat needs of its record, read once: its settings, whether the bot is still in it, who left it. */
export interface PostingChat {
  settings: EffectiveSettings;
  /** The bot was removed from the chat (or it was disbanded): nothing is posted there until it is added again. */
  botLeft: boolean;
  /** The people who left the chat, as Feishu's member events told: what the bot posts there does not mention them. */
  left: ReadonlySet<string>;
}

export async function postingChat(services: Pick<Services, 'store' | 'config'>, chatId: string): Promise<PostingChat> {
  const chat = await services.store.chat(chatId);
  return { settings: resolveSettings(chat, services.config.groupDefaults), botLeft: chat?.botLeftAt !== undefined, left: membersWhoLeft(chat) };
}

/**
 * How the to-do's card looks where a reminder took it over: with the reminder's buttons (Tomorrow at the group's time)
 * and line, mentioning those still in the chat. Nothing for a card that is still the posted one. `chat`: the chat
 * as already read, else it is read here.
 */
export async function takenOverLook(
  services: Pick<Services, 'store' | 'config'>,
  todo: Todo,
  chat?: PostingChat,
): Promise<{ asReminder?: SnoozeChoices; left?: ReadonlySet<string> }> {
  if (!reminderTookOver(todo)) return {};
  const { settings, left } = chat ?? (await postingChat(services, todo.chatId));
  return { asReminder: { tomorrowTime: settings.tomorrowTime }, left };
}
