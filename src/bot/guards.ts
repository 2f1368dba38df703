import type { CommandMiddleware } from './router';

/** Ephemeral cards exist only in groups, so the form flow does too. */
export const groupsOnly: CommandMiddleware = async (ctx, next) => {
  if (ctx.message.chatType !== 'group') {
    return ctx.reply('To-dos live in group chats: add me to a group and send /todo there.', 'warning');
  }
  await next();
};

/** The chat owner and its managers, unless TODO_ALLOWED=everyone. */
export const adminsOnly: CommandMiddleware = async (ctx, next) => {
  const { services, message } = ctx;
  if (services.config.todoAllowed === 'admins' && !(await services.admins.isAdmin(message.chatId, message.senderId))) {
    return ctx.reply('Only the group owner and group admins can create to-dos here.', 'warning');
  }
  await next();
};
