/**
 * What the client does with the Feishu codes that call for more than a failure: retry, count as success, or fetch a
 * new token. Every other code fails the call as it is. What a person is told of each code is the bot's business
 * (src/bot/feishu-sentences.ts), not the client's.
 */
export interface CodeMeaning {
  /** Waiting and trying again can succeed. */
  retry?: boolean;
  /** Refused under a rate limit: Feishu did not count the call (see src/feishu/answer-windows.ts). */
  rateLimited?: boolean;
  /** The thing asked for is already true (deleted, recalled): treat as success. */
  done?: boolean;
  /** The tenant token was refused: fetch a new one and try once more. */
  refreshToken?: boolean;
}

export const FEISHU_CODES: Readonly<Record<number, CodeMeaning>> = {
  // Platform-wide
  99991400: { retry: true, rateLimited: true },
  99991661: { refreshToken: true },
  99991663: { refreshToken: true },
  99991668: { refreshToken: true },
  // Messages and cards
  230011: { done: true },
  230020: { retry: true, rateLimited: true },
  230110: { done: true },
  // Ephemeral cards
  18051: { done: true },
  // Feishu Task v2: a deleted task is gone already; its own limit codes wait like the platform's
  1470404: { done: true },
  // The same client_token while a create with it is still under way (a retry after a timeout): the first one's task
  // is what a later try gets back.
  1470422: { retry: true },
  1470450: { retry: true, rateLimited: true },
  1470451: { retry: true, rateLimited: true },
};

const PLAIN_FAILURE: CodeMeaning = {};

export function meaningOf(code: number): CodeMeaning {
  return FEISHU_CODES[code] ?? PLAIN_FAILURE;
}
