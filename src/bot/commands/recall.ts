import type { Todo } from '../../domain/model';
import { isTransient } from '../../feishu/errors';
import { recallJob } from '../jobs/todo';
import type { CommandMiddleware } from '../router';

/**
 * `/recall`: as a reply, recalls the to-do card replied to; inside a topic, where Feishu names the topic's first
 * message as every message's parent, the latest card made in that topic; alone, the latest to-do card of the person
 * asking (for an admin, the latest in the chat). Only the creator and the group's admins may recall, and only from
 * the to-do's own chat; anything else is refused here, without asking Feishu.
 */
export const recallTodo: CommandMiddleware = async (ctx) => {
  const { services, message } = ctx;
  const { store, admins } = services;
  // Every to-do considered below is of this chat, so this is always the to-do's chat's admin check.
  let isAdmin: boolean | undefined;
  const senderIsAdmin = async () => (isAdmin ??= await admins.isAdmin(message.chatId, message.senderId));
  // Where Feishu refuses the admin look-up for good (a scope missing), the person's own latest card is still theirs.
  const senderCountsAsAdmin = () =>
    senderIsAdmin().catch((error: unknown) => {
      if (isTransient(error)) throw error;
      return false;
    });

  let todo: Todo | undefined;
  if (message.parentId) {
    todo = await store.todoByMessage(message.parentId);
    // A reply in one chat can name a message of another (Feishu checks nothing): a card of another chat is not ours to recall here.
    if (todo?.chatId !== message.chatId) todo = undefined;
    // Inside a topic the parent is always the topic's first message, whatever was replied to: unless that is the
    // card, the card meant is the topic's own, the latest made there (the person's own, unless an admin asks).
    if (!todo && message.threadId !== undefined) {
      const creatorId = (await senderCountsAsAdmin()) ? undefined : message.senderId;
      todo = await store.latestPostedTodo(message.chatId, { creatorId, threadId: message.threadId });
      if (!todo) return ctx.reply('recall.noneInTopic');
    }
    if (!todo) return ctx.reply('recall.notOurs', { tone: 'warning' });
  } else {
    const creatorId = (await senderCountsAsAdmin()) ? undefined : message.senderId;
    todo = await store.latestPostedTodo(message.chatId, { creatorId });
    if (!todo) return ctx.reply('recall.noneYours');
  }

  if (todo.status === 'recalled') return ctx.reply('recall.already', { tone: 'warning' });
  if (todo.creatorId !== message.senderId && !(await senderIsAdmin())) return ctx.reply('recall.notAllowed', { tone: 'warning' });
  // The answer comes from the job, once Feishu has answered: in the language of this command.
  const request = { requesterId: message.senderId, replyTo: message.messageId, lang: ctx.lang };
  await ctx.commit({ jobs: [recallJob(services, todo, request, message.eventId)] });
};
