import type { MessageKey } from '../i18n';
import { groupSettings } from './group-settings';
import type { CommandMiddleware } from './router';

/** Ephemeral cards exist only in groups, so the form flow does too. */
export const groupsOnly: CommandMiddleware = async (ctx, next) => {
  if (ctx.message.chatType !== 'group') return ctx.reply('reply.groupsOnly', { tone: 'warning' });
  await next();
};

/** The chat owner and its managers only, whatever TODO_ALLOWED says; `refusal` tells anyone else why not. */
export function chatAdminsOnly(refusal: MessageKey): CommandMiddleware {
  return async (ctx, next) => {
    const { services, message } = ctx;
    if (!(await services.admins.isAdmin(message.chatId, message.senderId))) return ctx.reply(refusal, { tone: 'warning' });
    await next();
  };
}

const creatorsOnly = chatAdminsOnly('reply.adminsOnly');

/** Who may open the form: the chat owner and its managers, unless the group lets everyone (`/settings`, `TODO_ALLOWED`). */
export const adminsOnly: CommandMiddleware = async (ctx, next) => {
  if ((await groupSettings(ctx.services, ctx.message.chatId)).whoCreates === 'everyone') return next();
  return creatorsOnly(ctx, next);
};
