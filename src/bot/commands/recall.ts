import type { CommandMiddleware } from '../router';
import { recallJob } from '../todo-jobs';

/**
 * `/recall`: as a reply, recalls the to-do card replied to; alone, the latest to-do card of the person asking
 * (for an admin, the latest in the chat). Only the creator and the group's admins may recall; anything the bot
 * did not post is refused here, without asking Feishu.
 */
export const recallTodo: CommandMiddleware = async (ctx) => {
  const { services, message } = ctx;
  const { store, admins } = services;
  let isAdmin: boolean | undefined;
  const senderIsAdmin = async () => (isAdmin ??= await admins.isAdmin(message.chatId, message.senderId));

  let todo;
  if (message.parentId) {
    todo = await store.todoByMessage(message.parentId);
    if (!todo) return ctx.reply('I can only recall to-do cards I posted, and that message is not one of them.', 'warning');
  } else {
    todo = await store.latestPostedTodo(message.chatId, (await senderIsAdmin()) ? undefined : message.senderId);
    if (!todo) return ctx.reply('There is no to-do card of yours in this chat to recall.', 'info');
  }

  if (todo.status === 'recalled') return ctx.reply('That to-do was already recalled.', 'warning');
  if (todo.creatorId !== message.senderId && !(await senderIsAdmin())) {
    return ctx.reply('Only the person who created this to-do and group admins can recall it.', 'warning');
  }
  await ctx.commit({ jobs: [recallJob(services, todo, message.senderId, message.messageId, message.eventId)] });
};
