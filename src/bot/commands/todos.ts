import { todoListCard } from '../../../cards/todo-list';
import { noticeJob } from '../notices';
import type { CommandMiddleware } from '../router';

/** `/todos` lists the chat's open to-dos, `/todos mine` those assigned to the asker; soonest reminder first. */
export const listTodos: CommandMiddleware = async (ctx) => {
  const { services, message, args } = ctx;
  const filter = args.trim().toLowerCase();
  if (filter !== '' && filter !== 'mine') return ctx.reply('Send /todos for every open to-do here, or /todos mine for yours.', 'info');
  const mine = filter === 'mine';
  const todos = await services.store.openTodos(message.chatId, mine ? message.senderId : undefined);
  await ctx.commit({
    jobs: [
      noticeJob(services, `${message.eventId}:todos`, {
        chatId: message.chatId,
        userId: message.senderId,
        card: todoListCard({ todos, mine }),
        replyTo: message.messageId,
        chatType: message.chatType,
      }),
    ],
  });
};
