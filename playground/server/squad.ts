import type { EmulatedChat } from '../../emulator';

/**
 * The playground's people and chats: the squad in an ordinary group and in a topic group (话题群), and each person's
 * direct chat with the bot, where the form of a topic group arrives. The admin owns both groups, so the bot's admin
 * check (the chat's owner and managers, read from the emulator) lets them open forms; the two members are plain
 * members.
 */

export interface Person {
  openId: string;
  name: string;
  /** What the page's person switch says about them. */
  role: 'Group owner' | 'Member';
  /** The zone their Feishu client reports in callbacks, and the one its pickers format values in. */
  timeZone: string;
}

export const BOT = { openId: 'ou_bot', name: 'To-do Bot' } as const;

const ADMIN: Person = { openId: 'ou_alex', name: 'Alex Chen', role: 'Group owner', timeZone: 'Asia/Shanghai' };

export const SQUAD = {
  chatId: 'oc_release_squad',
  name: 'Release squad',
  people: [
    ADMIN,
    { openId: 'ou_bea', name: 'Bea Li', role: 'Member', timeZone: 'Asia/Shanghai' },
    { openId: 'ou_chris', name: 'Chris Wang', role: 'Member', timeZone: 'Asia/Shanghai' },
  ] as readonly Person[],
};

/** The same people in a topic group: every message there starts or joins a topic, and ephemeral cards do not exist. */
export const TOPICS = { chatId: 'oc_release_topics', name: 'Release topics' } as const;

/** The group chats, in the order the page lists them; each person's direct chat with the bot comes after them. */
export const GROUPS = [
  { chatId: SQUAD.chatId, name: SQUAD.name, kind: 'group' },
  { chatId: TOPICS.chatId, name: TOPICS.name, kind: 'topic' },
] as const;

export const personById = (openId: string): Person | undefined => SQUAD.people.find((p) => p.openId === openId);

/** The group chats as the emulator holds them. */
export function groupChats(): EmulatedChat[] {
  return GROUPS.map((group) => ({
    chatId: group.chatId,
    chatType: 'group',
    mode: group.kind,
    ownerId: ADMIN.openId,
    managerIds: [],
    memberIds: SQUAD.people.map((p) => p.openId),
  }));
}
