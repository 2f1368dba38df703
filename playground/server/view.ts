import type { EmulatedMessage, Emulator } from '../../emulator';
import type { ChatView, FeedCardView, MessageBody, MessageView, PlaygroundView, TaskView } from '../shared/view';
import { BOT, GROUPS, SQUAD } from './squad';

/** One person's view of one chat: what their Feishu client would show, built from what the emulator holds. */

/** The chats a person's client lists: both groups, then their direct chat with the bot. */
export function chatsOf(emu: Emulator, viewer: string): Array<Omit<ChatView, 'messages'>> {
  const members = SQUAD.people.length + 1;
  return [
    ...GROUPS.map((group) => ({ id: group.chatId, name: group.name, kind: group.kind, memberCount: members })),
    { id: emu.directChatId(viewer), name: BOT.name, kind: 'direct' as const, memberCount: 2 },
  ];
}

/** The viewer sees the chats they are in; ephemeral cards reach only their owner, and a deleted one is gone. */
export function isVisibleTo(emu: Emulator, message: EmulatedMessage, viewer: string): boolean {
  if (!chatsOf(emu, viewer).some((chat) => chat.id === message.chatId)) return false;
  if (message.kind !== 'ephemeral') return true;
  return message.visibleTo === viewer && !message.deleted;
}

function bodyOf(message: EmulatedMessage): MessageBody {
  if (message.recalled) return { kind: 'recalled' };
  if (message.msgType === 'interactive') return { kind: 'card', card: message.card };
  const text = (message.content as { text?: unknown } | undefined)?.text;
  return { kind: 'text', text: typeof text === 'string' ? text : '' };
}

/** `chatId` must be one of the viewer's chats (see `chatsOf`). */
export function viewFor(emu: Emulator, viewer: string, chatId: string, now: number): PlaygroundView {
  const visible = [...emu.messages.values()].filter((message) => isVisibleTo(emu, message, viewer));
  const chats = chatsOf(emu, viewer).map((chat) => ({ ...chat, messages: visible.filter((m) => m.chatId === chat.id).length }));
  const chat = chats.find((c) => c.id === chatId);
  if (!chat) throw new Error(`${viewer} is not in ${chatId}`);
  const messages: MessageView[] = visible
    .filter((message) => message.chatId === chatId)
    .map((message) => {
      const parent = message.parentId === undefined ? undefined : emu.messages.get(message.parentId);
      return {
        id: message.messageId,
        at: message.createdAt,
        senderId: message.senderId,
        onlyYou: message.kind === 'ephemeral',
        body: bodyOf(message),
        ...(message.threadId !== undefined && { threadId: message.threadId }),
        ...(parent && { replyTo: { id: parent.messageId, senderId: parent.senderId, body: bodyOf(parent) } }),
      };
    });
  const feedCards: FeedCardView[] = [...emu.feedCards.values()].map((feed) => ({
    userId: feed.userId,
    title: String(feed.appFeedCard?.title ?? ''),
    ...(typeof feed.appFeedCard?.preview === 'string' && { preview: feed.appFeedCard.preview }),
    ...(feed.appFeedCard?.status_label && { status: feed.appFeedCard.status_label }),
    at: feed.createdAt,
  }));
  const tasks: TaskView[] = [...emu.tasks.values()]
    .filter((task) => !task.deleted)
    .map((task) => ({
      guid: task.guid,
      summary: task.summary,
      memberIds: task.members.map((m) => m.id),
      completed: task.completedAt !== '0',
      ...(task.due && { dueAt: Number(task.due.timestamp) }),
    }));
  return {
    chat,
    chats,
    bot: { ...BOT },
    people: SQUAD.people.map((p) => ({ ...p })),
    viewer,
    now,
    messages,
    feedCards,
    tasks,
  };
}
