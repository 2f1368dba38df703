import { helpCard } from '../../../cards/help';
import { noticeJob } from '../notices';
import type { CommandInfo, CommandMiddleware } from '../router';

/** `/help` and a bare mention: every command the bot has, shown to the person who asked. */
export function showHelp(commands: () => CommandInfo[]): CommandMiddleware {
  return async ({ services, message, commit }) => {
    await commit({
      jobs: [
        noticeJob(services, `${message.eventId}:help`, {
          chatId: message.chatId,
          userId: message.senderId,
          card: helpCard(commands()),
          replyTo: message.messageId,
          chatType: message.chatType,
        }),
      ],
    });
  };
}
