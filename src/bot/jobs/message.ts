import { z } from 'zod';
import type { MessageEvent } from '../../feishu/events';
import { t } from '../../i18n';
import { type Clock, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import { sayFailure } from '../feishu-sentences';
import { messageLanguage } from '../language';
import { type CommandMessage, type CommandRouter, commandMessage } from '../router';
import type { Services } from '../services';
import { noticeJob } from './notice';

/**
 * A message for the bot, handled as a job: recorded with its message's id when it is received, and routed to its command
 * when the job runs. Its payload, a `CommandMessage`, is all that is stored of a message.
 */

const message = jobKind(
  'message',
  z.object({
    eventId: z.string(),
    messageId: z.string(),
    chatId: z.string(),
    chatType: z.enum(['group', 'p2p', 'other']),
    senderId: z.string(),
    parentId: z.string().optional(),
    threadId: z.string().optional(),
    text: z.string().optional(),
    sentAt: z.number().optional(),
    mentions: z.array(z.object({ key: z.string(), openId: z.string().optional(), name: z.string().optional() })),
  }) satisfies z.ZodType<CommandMessage>,
);

/** The job handling `event`; its lane keeps one person's commands in one chat in the order they were sent. */
export function messageJob(clock: Clock, event: MessageEvent) {
  const at = clock.now();
  return newJob(message, {
    id: `message:${event.eventId}`,
    lane: `chat:${event.chatId}:${event.senderId}`,
    chatId: event.chatId,
    payload: commandMessage(event),
    runAt: at,
    createdAt: at,
  });
}

export function messageJobs(services: Services, router: CommandRouter): RegisteredJob[] {
  return [
    handle(message, {
      run: ({ payload, commit }) => router.route(services, payload, { commit }),
      // The boundary around every command: whatever went wrong, the sender hears about it in a sentence.
      async giveUp({ payload, commit }, error) {
        const lang = await messageLanguage(services, payload);
        await commit({
          jobs: [
            noticeJob(services, `${payload.eventId}:failed`, {
              chatId: payload.chatId,
              userId: payload.senderId,
              text: t(lang, sayFailure(error, 'reply.failed')),
              tone: 'error',
              lang,
              replyTo: payload.messageId,
              chatType: payload.chatType,
            }),
          ],
        });
      },
    }),
  ];
}
