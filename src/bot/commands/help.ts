import { type CommandHelp, helpCard } from '../../../cards/help';
import { noticeJob } from '../jobs/notice';
import type { CommandMiddleware } from '../router';

/** `/help` and a bare mention: every command the bot has, shown to the person who asked, in their language. */
export function showHelp(commands: () => CommandHelp[]): CommandMiddleware {
  return async ({ services, message, lang, commit }) => {
    await commit({
      jobs: [
        noticeJob(services, `${message.eventId}:help`, {
          chatId: message.chatId,
          userId: message.senderId,
          card: helpCard(lang, commands()),
          replyTo: message.messageId,
          chatType: message.chatType,
        }),
      ],
    });
  };
}
