import type { EffectiveSettings } from '../domain/group-settings';
import type { MessageKey } from '../i18n';
import { groupSettings } from './group-settings';
import type { CommandMiddleware } from './router';
import type { Services } from './services';

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

/**
 * Who may create to-dos in a chat whose settings are `settings`: the chat owner and its managers, unless the group
 * lets everyone (`/settings`, `TODO_ALLOWED`). Asked at `/todo` and again at Submit, each with the settings it read.
 */
export async function mayCreateTodos(
  services: Services,
  settings: Pick<EffectiveSettings, 'whoCreates'>,
  chatId: string,
  userId: string,
  waitMs?: number,
): Promise<boolean> {
  return settings.whoCreates === 'everyone' || services.admins.isAdmin(chatId, userId, waitMs);
}

/** Who may open the form (`mayCreateTodos`); anyone else is told why. */
export const adminsOnly: CommandMiddleware = async (ctx, next) => {
  const { services, message } = ctx;
  if (await mayCreateTodos(services, await groupSettings(services, message.chatId), message.chatId, message.senderId)) return next();
  return ctx.reply('reply.adminsOnly', { tone: 'warning' });
};
