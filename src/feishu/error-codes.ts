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
  99991400: { retry: true, say: 'feishu.rateLimited' },
  99991661: { refreshToken: true, say: 'feishu.tokenMissing' },
  99991663: { refreshToken: true, say: 'feishu.tokenExpired' },
  99991668: { refreshToken: true, say: 'feishu.tokenRefused' },
  99991672: { say: 'feishu.scopeMissing' },
  99992402: { say: 'feishu.fieldRejected' },
  10014: { say: 'feishu.badSecret' },
  10003: { say: 'feishu.badAppId' },
  // Messages and cards
  230001: { say: 'feishu.invalidRequest' },
  230002: { say: 'feishu.notInChat' },
  230006: { say: 'feishu.botDisabled' },
  230009: { say: 'feishu.recallWindow' },
  230011: { done: true, say: 'feishu.alreadyRecalled' },
  230013: { say: 'feishu.outsideAvailability' },
  230020: { retry: true, say: 'feishu.chatTooFast' },
  230025: { say: 'feishu.cardTooLarge' },
  230026: { say: 'feishu.notOwnMessage' },
  230027: { say: 'feishu.recallScope' },
  230031: { say: 'feishu.cardTooOld' },
  230050: { say: 'feishu.messageInvisible' },
  230054: { say: 'feishu.notRecallable' },
  230099: { say: 'feishu.cardRejected' },
  230110: { done: true, say: 'feishu.alreadyDeleted' },
  232006: { say: 'feishu.unknownChat' },
  232009: { say: 'feishu.chatDissolved' },
  232010: { say: 'feishu.unknownChat' },
  // Contacts
  41050: { say: 'feishu.outsideContacts' },
  // Ephemeral cards
  18051: { done: true, say: 'feishu.cardAlreadyDeleted' },
};

const UNKNOWN: CodeMeaning = { say: 'feishu.unknown' };

export function meaningOf(code: number): CodeMeaning {
  return FEISHU_CODES[code] ?? UNKNOWN;
}
