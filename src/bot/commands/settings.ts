import { settingsCard } from '../../../cards/settings';
import { groupSettings } from '../group-settings';
import { noticeJob } from '../jobs/notice';
import type { CommandMiddleware } from '../router';

/**
 * `/settings` (`/设置`): the group's settings form, shown privately to the admin who asked (the router lets admins
 * only through), in their language, holding the group's current values.
 */
export const openSettings: CommandMiddleware = async ({ services, message, lang, commit }) => {
  const settings = await groupSettings(services, message.chatId);
  await commit({
    jobs: [
      noticeJob(services, `${message.eventId}:settings`, {
        chatId: message.chatId,
        userId: message.senderId,
        card: settingsCard({ chatId: message.chatId, settings, lang }),
        replyTo: message.messageId,
        chatType: message.chatType,
      }),
    ],
  });
};
