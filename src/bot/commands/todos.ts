import { todoListCard } from '../../../cards/todo-list';
import { LANGUAGES, t } from '../../i18n';
import { noticeJob } from '../jobs/notice';
import type { CommandMiddleware } from '../router';

/**
 * `/todos` lists the chat's open to-dos, `/todos mine` (`/待办列表 我的`, either word in either command) those
 * assigned to the asker; soonest reminder first.
 */
export const listTodos: CommandMiddleware = async (ctx) => {
  const { services, message, args, lang } = ctx;
  const filter = args.trim().toLowerCase();
  const mine = LANGUAGES.some((each) => filter === t(each, 'command.todos.mine'));
  if (filter !== '' && !mine) return ctx.reply('reply.todosUsage');
  const todos = await services.store.openTodos(message.chatId, mine ? message.senderId : undefined);
  await ctx.commit({
    jobs: [
      noticeJob(services, `${message.eventId}:todos`, {
        chatId: message.chatId,
        userId: message.senderId,
        card: todoListCard({ todos, mine, lang }),
        replyTo: message.messageId,
        chatType: message.chatType,
      }),
    ],
  });
};
