import type { EmulatedChat } from '../../emulator';

/**
 * The playground's group chat and the people in it. The admin owns the chat, so the bot's admin check (the chat's
 * owner and managers, read from the emulator) lets them open forms; the two members are plain members.
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

export const personById = (openId: string): Person | undefined => SQUAD.people.find((p) => p.openId === openId);

/** The chat as the emulator holds it. */
export function squadChat(): EmulatedChat {
  return {
    chatId: SQUAD.chatId,
    chatType: 'group',
    ownerId: ADMIN.openId,
    managerIds: [],
    memberIds: SQUAD.people.map((p) => p.openId),
  };
}
