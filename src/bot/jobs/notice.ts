import { z } from 'zod';
import { type NoticeTone, noticeCard } from '../../../cards/notice';
import { LANGUAGES } from '../../domain/languages';
import { isFeishuError, isTransient } from '../../feishu/errors';
import { t } from '../../i18n';
import { type Clock, type RegisteredJob, handle, jobKind, newJob } from '../../jobs/registry';
import { type Services, derivedId } from '../services';

/**
 * Telling one person something, in their language. In a group it is an ephemeral card only they see; in a topic group,
 * which has none, a direct message; where that is impossible (a direct chat, or Feishu refuses) it is a reply to the
 * message they sent, so nobody is left without an answer.
 */

const TONES = ['info', 'warning', 'error'] as const satisfies readonly NoticeTone[];

const noticeKind = jobKind(
  'notice',
  z.object({
    chatId: z.string(),
    userId: z.string(),
    /** A short sentence from the catalogs, in `lang`, shown in a notice card... */
    text: z.string().optional(),
    tone: z.enum(TONES).optional(),
    /** The notice card's language (absent on notices stored before the bot spoke two: `BOT_LANGUAGE`). */
    lang: z.enum(LANGUAGES).optional(),
    /** ...or a whole card (help). */
    card: z.custom<object>((value) => typeof value === 'object' && value !== null, 'expected a card').optional(),
    /** The person's message to reply to when an ephemeral card cannot be shown. */
    replyTo: z.string().optional(),
    chatType: z.enum(['group', 'p2p', 'other']).optional(),
  }),
);

export type Notice = z.input<typeof noticeKind.payload>;

/** The job that tells someone something; `key` makes it idempotent (a handler that runs twice tells once). */
export function noticeJob(clock: Clock, key: string, notice: Notice) {
  return newJob(noticeKind, {
    id: `notice:${key}`,
    lane: `notice:${notice.chatId}:${notice.userId}`,
    chatId: notice.chatId,
    payload: notice,
    runAt: clock.now(),
    createdAt: clock.now(),
  });
}

export function noticeJobs(services: Services): RegisteredJob[] {
  const inTopicGroup = async (chatId: string) => (await services.admins.chatMode(chatId)) === 'topic';
  return [
    handle(noticeKind, {
      async run({ job, payload: notice, step }) {
        const lang = notice.lang ?? services.config.botLanguage;
        const card = notice.card ?? noticeCard({ text: notice.text ?? '', tone: notice.tone ?? 'info', lang });
        if (notice.chatType !== 'p2p') {
          try {
            // No uuid: a card this instance sent after its lease passed to another (which sends its own) is deleted.
            await step('ephemeral', () => services.feishu.sendEphemeral({ chatId: notice.chatId, openId: notice.userId, card }), {
              undo: (sent) => services.feishu.deleteEphemeral(sent),
            });
            return;
          } catch (error) {
            if (!isFeishuError(error) || isTransient(error)) throw error;
            if (!(await inTopicGroup(notice.chatId)) && !notice.replyTo) throw error;
          }
        }
        // A topic group has no ephemeral cards (asked only once Feishu refused one, so ordinary groups cost no
        // look-up): a private answer goes by direct message; if even that cannot be delivered, one line in the topic
        // says so, and nothing of what was to be said.
        if (notice.chatType !== 'p2p' && (await inTopicGroup(notice.chatId))) {
          const sent = await step('direct', async () => {
            try {
              return await services.feishu.sendDirect({ openId: notice.userId, card, uuid: derivedId('d', job.id) });
            } catch (error) {
              if (isTransient(error) || !isFeishuError(error) || !notice.replyTo) throw error;
              return null;
            }
          });
          const parentId = notice.replyTo;
          if (sent || !parentId) return;
          const line = noticeCard({ text: t(lang, 'topic.noticeFailed'), tone: 'warning', lang });
          await step('reply', () => services.feishu.replyCard({ chatId: notice.chatId, parentId, card: line, uuid: derivedId('r', job.id) }));
          return;
        }
        const parentId = notice.replyTo;
        if (!parentId) return;
        await step('reply', () => services.feishu.replyCard({ chatId: notice.chatId, parentId, card, uuid: derivedId('r', job.id) }));
      },
    }),
  ];
}
