/**
 * Every Feishu code the bot can meet, in one table: whether a retry can help, whether it means the goal is
 * already reached, and the sentence a person is shown. The client reads `retry`/`done`; the bot reads `say`.
 */
export interface CodeMeaning {
  /** Waiting and trying again can succeed. */
  retry?: boolean;
  /** The thing asked for is already true (deleted, recalled): treat as success. */
  done?: boolean;
  /** The tenant token was refused: fetch a new one and try once more. */
  refreshToken?: boolean;
  say: string;
}

export const FEISHU_CODES: Readonly<Record<number, CodeMeaning>> = {
  // Platform-wide
  99991400: { retry: true, say: 'Feishu is rate-limiting me right now; I will try again shortly.' },
  99991661: { refreshToken: true, say: 'My Feishu access token was missing; please try again.' },
  99991663: { refreshToken: true, say: 'My Feishu access token had expired; please try again.' },
  99991668: { refreshToken: true, say: 'My Feishu access token was refused; please try again.' },
  99991672: { say: 'The bot lacks a permission scope in the developer console; ask the app owner to add it.' },
  99992402: { say: 'Feishu rejected a field of my request; this is a bug in the bot.' },
  10014: { say: 'The app secret is wrong; ask the app owner to check FEISHU_APP_SECRET.' },
  10003: { say: 'The app id is wrong; ask the app owner to check FEISHU_APP_ID.' },
  // Messages and cards
  230001: { say: 'Feishu rejected my request as invalid.' },
  230002: { say: 'I am not a member of this chat any more; add me back to the group.' },
  230006: { say: 'The bot capability of this app is switched off; ask the app owner to enable it.' },
  230009: { say: 'That message is older than the recall window your tenant admin allows, so it cannot be recalled.' },
  230011: { done: true, say: 'That message has been recalled already.' },
  230013: { say: 'That person is outside the app’s availability range; ask the tenant admin to add them.' },
  230020: { retry: true, say: 'This chat is receiving messages too fast; I will try again shortly.' },
  230025: { say: 'The card is larger than Feishu allows (30 KB); shorten the text.' },
  230026: { say: 'I can only recall messages I sent.' },
  230027: { say: 'The bot lacks the permission for this; ask the app owner to grant the recall scope.' },
  230031: { say: 'That card is older than 14 days and can no longer be updated.' },
  230050: { say: 'That message is not visible to me, so I cannot act on it.' },
  230054: { say: 'This kind of message cannot be recalled.' },
  230099: { say: 'Feishu rejected the card content; this is a bug in the bot.' },
  230110: { done: true, say: 'That message was already deleted.' },
  232006: { say: 'Feishu does not know this chat.' },
  232009: { say: 'This group has been dissolved.' },
  232010: { say: 'Feishu does not know this chat.' },
  // Contacts
  41050: { say: 'That person is outside the contact range the tenant admin gave this app.' },
  // Ephemeral cards
  18051: { done: true, say: 'That card was already deleted.' },
};

const UNKNOWN: CodeMeaning = { say: 'Feishu refused the request.' };

export function meaningOf(code: number): CodeMeaning {
  return FEISHU_CODES[code] ?? UNKNOWN;
}
