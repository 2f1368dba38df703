import { todoListCard } from '../../../cards/todo-list';
import { overdueSince, peopleOf } from '../../domain/digest';
import type { Todo } from '../../domain/model';
import { LANGUAGES, type MessageKey, t } from '../../i18n';
import { groupSettings, postingChat } from '../group-settings';
import { noticeJob } from '../jobs/notice';
import type { CommandMiddleware } from '../router';

/** How long the list waits for the asker's profile zone (the look-up goes on and fills the cache). */
const PROFILE_ZONE_WAIT_MS = 1_000;

/** A word of the command in either language (`mine`, `我的`). */
const saysWord = (word: string, key: MessageKey) => LANGUAGES.some((each) => word === t(each, key));

/**
 * `/todos` lists the chat's open to-dos; `/todos mine` (`/待办列表 我的`) the asker's, `/todos overdue` (`逾期`) those
 * past their time, `/todos @Bea` those of the people mentioned (the bot's own mention aside); the filters combine. A
 * to-do is its assignees', or its creator's when none of them is assigned or still in the group, as the digest groups
 * them: so each open to-do is someone's, and its Done within their reach however many others the chat has. Soonest
 * reminder first.
 */
export const listTodos: CommandMiddleware = async (ctx) => {
  const { services, message, args, lang } = ctx;
  const words = args
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '');
  const mine = words.some((word) => saysWord(word, 'command.todos.mine'));
  const overdue = words.some((word) => saysWord(word, 'command.todos.overdue'));
  if (words.some((word) => !saysWord(word, 'command.todos.mine') && !saysWord(word, 'command.todos.overdue'))) return ctx.reply('reply.todosUsage');
  const people = await mentionedPeople(ctx);
  const now = services.now();
  // Assignees who left the group answer for nothing in it any more: a to-do all of whose assignees left is its creator's.
  const { left } = await postingChat(services, message.chatId);
  const keep = (todo: Todo) => {
    const theirs = peopleOf(todo, left);
    return (
      (!mine || theirs.includes(message.senderId)) &&
      (people.length === 0 || people.some((id) => theirs.includes(id))) &&
      (!overdue || overdueSince(todo, now) !== undefined)
    );
  };
  // The overdue first, longest overdue first, then by next reminder (the store's order), then those with none.
  const urgency = (todo: Todo) => overdueSince(todo, now) ?? todo.remindAt ?? Number.POSITIVE_INFINITY;
  const todos = (await services.store.openTodos(message.chatId)).filter(keep).sort((a, b) => urgency(a) - urgency(b));
  // The asker reads every line in one zone, theirs (their profile's, else the group's), not each to-do's creator's.
  const timeZone = (await services.profileZones.within(message.senderId, PROFILE_ZONE_WAIT_MS)) ?? (await groupSettings(services, message.chatId)).timeZone;
  await ctx.commit({
    jobs: [
      noticeJob(services, `${message.eventId}:todos`, {
        chatId: message.chatId,
        userId: message.senderId,
        card: todoListCard({ todos, mine, overdue, people, lang, timeZone, now }),
        replyTo: message.messageId,
        chatType: message.chatType,
      }),
    ],
  });
};

/** The people a message mentions, other than the bot (everyone, `@_all`, names nobody). */
async function mentionedPeople(ctx: Parameters<CommandMiddleware>[0]): Promise<string[]> {
  const people = ctx.message.mentions.flatMap((mention) => (mention.openId === undefined ? [] : [mention.openId]));
  if (people.length === 0) return [];
  const bot = await ctx.services.botOpenId();
  return [...new Set(people.filter((id) => id !== bot))];
}
