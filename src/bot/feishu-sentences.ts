import { ErrorCode } from '../errors';
import { isFeishuError } from '../feishu/errors';
import type { MessageKey } from '../i18n';

/**
 * Every Feishu code the bot can meet, with the sentence a person is shown for it (its key in the message catalogs,
 * said in their language): a Feishu error becomes something a person understands, in the chat.
 */
export const FEISHU_SENTENCES: Readonly<Record<number, MessageKey>> = {
  // Platform-wide
  99991400: 'feishuError.rateLimited',
  99991661: 'feishuError.tokenMissing',
  99991663: 'feishuError.tokenExpired',
  99991668: 'feishuError.tokenRefused',
  99991672: 'feishuError.scopeMissing',
  99992402: 'feishuError.fieldRejected',
  10014: 'feishuError.badSecret',
  10003: 'feishuError.badAppId',
  // Messages and cards
  230001: 'feishuError.invalidRequest',
  230002: 'feishuError.notInChat',
  230006: 'feishuError.botDisabled',
  230009: 'feishuError.recallWindow',
  230011: 'feishuError.alreadyRecalled',
  230013: 'feishuError.outsideAvailability',
  230020: 'feishuError.chatTooFast',
  230025: 'feishuError.cardTooLarge',
  230026: 'feishuError.notOwnMessage',
  230027: 'feishuError.recallScope',
  230031: 'feishuError.cardTooOld',
  230050: 'feishuError.messageInvisible',
  230054: 'feishuError.notRecallable',
  230099: 'feishuError.cardRejected',
  230110: 'feishuError.alreadyDeleted',
  232006: 'feishuError.unknownChat',
  232009: 'feishuError.chatDissolved',
  232010: 'feishuError.otherTenant',
  // Contacts
  41050: 'feishuError.outsideContacts',
  // Ephemeral cards
  18051: 'feishuError.cardAlreadyDeleted',
  // Feishu Task v2
  1470400: 'feishuError.taskRejected',
  1470403: 'feishuError.taskForbidden',
  1470404: 'feishuError.taskGone',
  1470422: 'feishuError.taskStillCreating',
  1470450: 'feishuError.rateLimited',
  1470451: 'feishuError.rateLimited',
};

/** The sentence for one of Feishu's codes; a code not in the table gets a general one. */
export function feishuSentence(feishuCode: number): MessageKey {
  return FEISHU_SENTENCES[feishuCode] ?? 'feishuError.unknown';
}

/**
 * What to tell a person of a failure: Feishu's reason when Feishu was the trouble, otherwise `otherwise`. Said when a
 * job has given up (its retries spent), so no sentence here may promise another try.
 */
export function sayFailure(error: unknown, otherwise: MessageKey): MessageKey {
  if (!isFeishuError(error)) return otherwise;
  switch (error.code) {
    case ErrorCode.FeishuRefused:
      return feishuSentence(error.feishuCode);
    case ErrorCode.FeishuUnreachable:
      return 'feishuError.unreachable';
    case ErrorCode.FeishuGaveUp:
      return sayFailure(error.last, otherwise);
  }
}
