import { noticeCard } from '../../cards/notice';
import type { NoticeTone } from '../../cards/notice';
import type { Language } from '../domain/model';
import { isFeishuError, isTransient } from '../feishu/errors';
import type { JobHandler } from '../jobs/outbox';
import type { NewJob } from '../store/store';
import { t } from '../i18n';
import { type Services, derivedId } from './services';

/**
 * Telling one person something, in their language. In a group it is an ephemeral card only they see; where that is
 * impossible (a direct chat, or Feishu refuses) it is a reply to the message they sent, so nobody is left without
 * an answer.
 */

export interface Notice {
  chatId: string;
  userId: string;
  /** A short sentence from the catalogs, in `lang`, shown in a notice card... */
  text?: string;
  tone?: NoticeTone;
  /** The notice card's language (absent on notices stored before the bot spoke two: `BOT_LANGUAGE`). */
  lang?: Language;
  /** ...or a whole card (help). */
  card?: object;
  /** The person's message to reply to when an ephemeral card cannot be shown. */
  replyTo?: string;
  chatType?: 'group' | 'p2p' | 'other';
}

/** The job that tells someone something; `key` makes it idempotent (a handler that runs twice tells once). */
export function noticeJob(services: Services, key: string, notice: Notice): NewJob {
  return {
    id: `notice:${key}`,
    kind: 'notice',
    lane: `notice:${notice.chatId}:${notice.userId}`,
    chatId: notice.chatId,
    payload: notice,
    runAt: services.now(),
    createdAt: services.now(),
  };
}

export function noticeHandler(services: Services): JobHandler {
  return {
    async run({ job, step }) {
      const notice = job.payload as Notice;
      const lang = notice.lang ?? services.config.botLanguage;
      const card = notice.card ?? noticeCard({ text: notice.text ?? '', tone: notice.tone ?? 'info', lang });
      // A topic group has no ephemeral cards: a private answer goes by direct message; if even that cannot be
      // delivered, one line in the topic says so, and nothing of what was to be said.
      if (notice.chatType !== 'p2p' && (await services.admins.chatMode(notice.chatId)) === 'topic') {
        const sent = await step('direct', async () => {
          try {
            return await services.feishu.sendDirect({ openId: notice.userId, card, uuid: derivedId('d', job.id) });
          } catch (error) {
            if (isTransient(error) || !isFeishuError(error) || !notice.replyTo) throw error;
            return null;
          }
        });
        if (sent || !notice.replyTo) return;
        const line = noticeCard({ text: t(lang, 'topic.noticeFailed'), tone: 'warning', lang });
        await step('reply', () => services.feishu.replyCard({ chatId: notice.chatId, parentId: notice.replyTo as string, card: line, uuid: derivedId('r', job.id) }));
        return;
      }
      if (notice.chatType !== 'p2p') {
        try {
          await step('ephemeral', () => services.feishu.sendEphemeral({ chatId: notice.chatId, openId: notice.userId, card }));
          return;
        } catch (error) {
          if (!notice.replyTo || !isFeishuError(error) || isTransient(error)) throw error;
        }
      }
      if (!notice.replyTo) return;
      await step('reply', () =>
        services.feishu.replyCard({ chatId: notice.chatId, parentId: notice.replyTo as string, card, uuid: derivedId('r', job.id) }),
      );
    },
  };
}
