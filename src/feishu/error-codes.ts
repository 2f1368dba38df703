import type { MessageKey } from '../i18n';

/**
 * Every Feishu code the bot can meet, in one table: whether a retry can help, whether it means the goal is
 * already reached, and the sentence a person is shown (its key in the message catalogs, said in their language).
 * The client reads `retry`/`done`; the bot reads `say`.
 */
export interface CodeMeaning {
  /** Waiting and trying again can succeed. */
  retry?: boolean;
  /** The thing asked for is already true (deleted, recalled): treat as success. */
  done?: boolean;
  /** The tenant token was refused: fetch a new one and try once more. */
  refreshToken?: boolean;
  say: MessageKey;
}

export const FEISHU_CODES: Readonly<Record<number, CodeMeaning>> = {
  // Platform-wide
  99991400: { retry: true, say: 'feishuError.rateLimited' },
  99991661: { refreshToken: true, say: 'feishuError.tokenMissing' },
  99991663: { refreshToken: true, say: 'feishuError.tokenExpired' },
  99991668: { refreshToken: true, say: 'feishuError.tokenRefused' },
  99991672: { say: 'feishuError.scopeMissing' },
  99992402: { say: 'feishuError.fieldRejected' },
  10014: { say: 'feishuError.badSecret' },
  10003: { say: 'feishuError.badAppId' },
  // Messages and cards
  230001: { say: 'feishuError.invalidRequest' },
  230002: { say: 'feishuError.notInChat' },
  230006: { say: 'feishuError.botDisabled' },
  230009: { say: 'feishuError.recallWindow' },
  230011: { done: true, say: 'feishuError.alreadyRecalled' },
  230013: { say: 'feishuError.outsideAvailability' },
  230020: { retry: true, say: 'feishuError.chatTooFast' },
  230025: { say: 'feishuError.cardTooLarge' },
  230026: { say: 'feishuError.notOwnMessage' },
  230027: { say: 'feishuError.recallScope' },
  230031: { say: 'feishuError.cardTooOld' },
  230050: { say: 'feishuError.messageInvisible' },
  230054: { say: 'feishuError.notRecallable' },
  230099: { say: 'feishuError.cardRejected' },
  230110: { done: true, say: 'feishuError.alreadyDeleted' },
  232006: { say: 'feishuError.unknownChat' },
  232009: { say: 'feishuError.chatDissolved' },
  232010: { say: 'feishuError.unknownChat' },
  // Contacts
  41050: { say: 'feishuError.outsideContacts' },
  // Ephemeral cards
  18051: { done: true, say: 'feishuError.cardAlreadyDeleted' },
  // Feishu Task v2
  1470400: { say: 'feishuError.taskRejected' },
  1470403: { say: 'feishuError.taskForbidden' },
  1470404: { done: true, say: 'feishuError.taskGone' },
  1470450: { retry: true, say: 'feishuError.rateLimited' },
  1470451: { retry: true, say: 'feishuError.rateLimited' },
  1470500: { retry: true, say: 'feishuError.unknown' },
};

const UNKNOWN: CodeMeaning = { say: 'feishuError.unknown' };

export function meaningOf(code: number): CodeMeaning {
  return FEISHU_CODES[code] ?? UNKNOWN;
}
