import type { EmulatedMessage, Emulator } from '../../emulator';
import type { FeedCardView, MessageBody, MessageView, PlaygroundView, TaskView } from '../shared/view';
import { BOT, SQUAD } from './squad';

/** One person's view of the group: what their Feishu client would show, built from what the emulator holds. */

/** Ephemeral cards reach only their owner, and a deleted one is gone; everything else in the chat is shared. */
export function isVisibleTo(message: EmulatedMessage, viewer: string): boolean {
  if (message.chatId !== SQUAD.chatId) return false;
  if (message.kind !== 'ephemeral') return true;
  return message.visibleTo === viewer && !message.deleted;
}

function bodyOf(message: EmulatedMessage): MessageBody {
  if (message.recalled) return { kind: 'recalled' };
  if (message.msgType === 'interactive') return { kind: 'card', card: message.card };
  const text = (message.content as { text?: unknown } | undefined)?.text;
  return { kind: 'text', text: typeof text === 'string' ? text : '' };
}

export function viewFor(emu: Emulator, viewer: string, now: number): PlaygroundView {
  const messages: MessageView[] = [];
  for (const message of emu.messages.values()) {
    if (!isVisibleTo(message, viewer)) continue;
    const parent = message.parentId === undefined ? undefined : emu.messages.get(message.parentId);
    messages.push({
      id: message.messageId,
      at: message.createdAt,
      senderId: message.senderId,
      onlyYou: message.kind === 'ephemeral',
      body: bodyOf(message),
      ...(parent && { replyTo: { id: parent.messageId, senderId: parent.senderId, body: bodyOf(parent) } }),
    });
  }
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
    chat: { id: SQUAD.chatId, name: SQUAD.name },
    bot: { ...BOT },
    people: SQUAD.people.map((p) => ({ ...p })),
    viewer,
    now,
    messages,
    feedCards,
    tasks,
  };
}
