/** The emulator's public shapes. Feishu's own field names appear only inside recorded bodies and payloads. */

export interface EmulatorOptions {
  /** Default 'cli_test_app'. */
  appId?: string;
  /** Default 'test-app-secret'. */
  appSecret?: string;
  /** Default 'ou_bot'. */
  botOpenId?: string;
  /** Default: one group 'oc_group', see `defaultChats()`. */
  chats?: EmulatedChat[];
  /** Default false: tests of ordinary flows should not trip over timing. */
  enforceRateLimits?: boolean;
  /** Default 7200, as Feishu. */
  tokenTtlSeconds?: number;
  /** Clock in ms, for tests that move time (14-day PATCH window, 1 h uuid window, rate windows). Default Date.now. */
  now?: () => number;
  /** Default: a free port. A fixed one lets a test start Feishu after the bot that calls it. */
  port?: number;
}

export interface EmulatedChat {
  chatId: string;
  chatType: 'group' | 'p2p';
  ownerId: string;
  managerIds: string[];
  memberIds: string[];
  dissolved?: boolean;
}

export interface RecordedCall {
  /** Arrival order; `calls` itself is in answer order. */
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON, the raw text when it was not JSON, undefined when empty. */
  body: any;
  /** 0 when the socket was dropped by a fault. */
  status: number;
  response: any;
  at: number;
  /** What an injected fault did to this call, when one did (a `delay` was then answered normally). */
  fault?: 'drop' | 'delay' | 'answer';
}

export interface FaultRule {
  method?: string;
  /** A string matches the exact pathname. */
  path?: string | RegExp;
  /** Default: 200 when the code (from `code` or `body.code`) is 0, 400 for another code, else 500. */
  status?: number;
  code?: number;
  msg?: string;
  headers?: Record<string, string>;
  /** The whole JSON answer, overriding code/msg. */
  body?: unknown;
  /** Alone (no status/code/msg/headers/body/drop): delay, then handle the call normally. */
  delayMs?: number;
  drop?: boolean;
  /** Default 1; Infinity allowed. */
  times?: number;
  /** 0..1, default 1. */
  probability?: number;
}

export interface EmulatedMessage {
  messageId: string;
  chatId: string;
  kind: 'message' | 'reply' | 'ephemeral';
  msgType: string;
  /** Parsed content: `{text}` for text, the card for interactive. */
  content: any;
  card?: any;
  visibleTo?: string;
  parentId?: string;
  uuid?: string;
  recalled: boolean;
  deleted: boolean;
  /** Each card a PATCH put in place, oldest first. */
  updates: any[];
  /** botOpenId, or the person who sent it. */
  senderId: string;
  createdAt: number;
}

export interface EmulatedFeedCard {
  bizId: string;
  userId: string;
  appFeedCard: any;
  createdAt: number;
}

export interface PushOptions {
  /** When set, the body is `{"encrypt": base64(iv16 + AES-256-CBC(sha256(encryptKey), JSON))}`. */
  encryptKey?: string;
  /** Default true when encryptKey is set. */
  sign?: boolean;
  /** Unix seconds. */
  timestamp?: number;
  nonce?: string;
  /** Sent verbatim instead of the payload; still signed over these bytes when signing. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Changes the body after signing, as a forger would. */
  tamper?: (rawBody: string) => string;
}

export interface PushResult {
  status: number;
  /** Parsed JSON answer, undefined when the answer was not JSON. */
  body: any;
  text: string;
  /** How long the bot took to answer: Feishu gives up after 3 s. */
  elapsedMs: number;
}

export interface Emulator {
  url: string;
  /** Every call, the token call included. */
  calls: RecordedCall[];
  callsTo(method: string, path: string | RegExp): RecordedCall[];
  /** HTTP 200 with code 0. */
  successfulCallsTo(method: string, path: string | RegExp): RecordedCall[];
  /** How many calls arrived, answered or not: a call a fault holds counts here at once, in `calls` only when answered. */
  arrivedCalls(method: string, path: string | RegExp): number;
  fault(rule: FaultRule): void;
  clearFaults(): void;
  messages: Map<string, EmulatedMessage>;
  /** Keyed `${bizId}:${userId}`. */
  feedCards: Map<string, EmulatedFeedCard>;
  chats: Map<string, EmulatedChat>;
  /** Calls refused by an enforced rate limit (429 or 230020). */
  readonly rateLimitRejections: number;
  addExternalMessage(m: { chatId: string; senderId: string; text: string }): string;
  revokeTokens(): void;
  /** Forgets calls, messages, uuids, faults, feed cards and rate windows; keeps chats and tokens. */
  reset(): void;
  close(): Promise<void>;
  push(target: string, payload: object, opts?: PushOptions): Promise<PushResult>;
}
