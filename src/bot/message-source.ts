import { type MessageSource, TODO_TEXT_LIMIT } from '../domain/model';
import { ErrorCode, errorCode } from '../errors';
import type { ChatMessage } from '../feishu/client';
import { feishuRefusal, isTransient } from '../feishu/errors';
import { MENTION_KEY_PATTERN, type MessageText, readMessageText } from '../feishu/message-content';
import type { MessageKey } from '../i18n';
import type { Services } from './services';

/**
 * The message a `/todo` replied to, read with `GET /open-apis/im/v1/messages/:message_id`: who wrote it and its words,
 * mentions written as the names they stand for. What the bot cannot read (recalled, of another chat, a missing scope)
 * is told apart, so the person hears why the form opens empty.
 */

const MENTION_KEY = new RegExp(MENTION_KEY_PATTERN, 'g');

export type SourceRead = { ok: true; source: MessageSource; text: string; sentAt?: number | undefined } | { ok: false; reason: MessageKey };

/** Feishu's codes for a message that is gone: recalled (230011) or deleted (230110). */
const GONE = new Set([230011, 230110]);
/** The app lacks the scope to read it (99991672), or the bot may not see it (230027 lacks scope, 230050 invisible). */
const NOT_ALLOWED = new Set([99991672, 230027, 230050]);
/** Another chat's message, or a chat the bot is no longer in. */
const ELSEWHERE = new Set([230002, 232006]);
/** "Operator and chat can NOT be in different tenants": a chat of another organisation. */
const OTHER_TENANT = 232010;

export async function readSource(services: Services, p: { messageId: string; chatId: string }): Promise<SourceRead> {
  let message: ChatMessage;
  try {
    message = await services.feishu.readMessage(p.messageId);
  } catch (error) {
    // A blip is the job's to retry; a refusal is an answer.
    if (isTransient(error)) throw error;
    const code = feishuRefusal(error)?.feishuCode;
    if (code !== undefined && GONE.has(code)) return { ok: false, reason: 'source.recalled' };
    if (code !== undefined && NOT_ALLOWED.has(code)) return { ok: false, reason: 'source.noScope' };
    if (code !== undefined && ELSEWHERE.has(code)) return { ok: false, reason: 'source.otherChat' };
    if (code === OTHER_TENANT) return { ok: false, reason: 'source.otherTenant' };
    return { ok: false, reason: 'source.unreadable' };
  }
  if (message.deleted) return { ok: false, reason: 'source.recalled' };
  // A reply can name any message id; only one of the command's own chat is read.
  if (message.chatId !== p.chatId) return { ok: false, reason: 'source.otherChat' };
  const source: MessageSource = {
    messageId: p.messageId,
    ...(message.senderId !== undefined && { senderId: message.senderId }),
    ...(message.senderType !== undefined && { senderType: message.senderType === 'app' ? 'app' : 'user' }),
    ...(message.senderName !== undefined && message.senderName !== '' && { senderName: message.senderName }),
  };
  const text = wordsOf(message.msgType ?? '', message.content ?? '', message.mentions);
  if (text === undefined) return { ok: false, reason: 'source.notText' };
  return { ok: true, source, text: [...text].slice(0, TODO_TEXT_LIMIT).join(''), sentAt: message.sentAt };
}

/** A text or rich-text message's words, each mention as `@Name`; undefined for other kinds (images, files, cards). */
function wordsOf(msgType: string, content: string, mentions: Array<{ key: string; id?: string; name: string }>): string | undefined {
  let said: MessageText | undefined;
  try {
    said = readMessageText(
      msgType,
      content,
      mentions.map((m) => ({ key: m.key, ...(m.id !== undefined && { openId: m.id }), name: m.name })),
      { whole: true },
    );
  } catch (error) {
    if (errorCode(error) === ErrorCode.MessageContentInvalid) return undefined;
    throw error;
  }
  if (!said) return undefined;
  const names = new Map(said.mentions.map((m) => [m.key, m.name]));
  const words = said.text
    .replace(MENTION_KEY, (key) => (key === '@_all' ? '@all' : `@${names.get(key) || 'someone'}`))
    .replace(/[ \t]+/g, ' ')
    // A paragraph of an image or a sticker alone leaves an empty line.
    .replace(/\n(?:[ \t]*\n)+/g, '\n')
    .trim();
  return words === '' ? undefined : words;
}
