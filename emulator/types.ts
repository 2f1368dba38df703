/** The emulator's public shapes. Feishu's own field names appear only inside recorded bodies and payloads. */

export interface EmulatorOptions {
  /** Default 'cli_test_app'. */
  appId?: string | undefined;
  /** Default 'test-app-secret'. */
  appSecret?: string | undefined;
  /** Default 'ou_bot'. */
  botOpenId?: string | undefined;
  /** Default: one group 'oc_group', see `defaultChats()`. */
  chats?: EmulatedChat[] | undefined;
  /** Default false: tests of ordinary flows should not trip over timing. */
  enforceRateLimits?: boolean | undefined;
  /** Default 7200, as Feishu. */
  tokenTtlSeconds?: number | undefined;
  /** Profile time zones by open_id (`time_zone` of the contact API); others in a chat have Asia/Shanghai. */
  timeZones?: Record<string, string> | undefined;
  /** Default true; false: the app has no contact read scope and the contact API answers 99991672. */
  contactScope?: boolean | undefined;
  /** Default true; false: the app has no message read scope and `GET /open-apis/im/v1/messages/:id` answers 99991672. */
  messageScope?: boolean | undefined;
  /** People's names by open_id: the chat member list's `name` and a read message's `sender_name`. */
  names?: Record<string, string> | undefined;
  /** People outside the app's availability: a direct message to them is refused (230013). */
  unavailableUsers?: string[] | undefined;
  /** Default true; false: the app has neither task scope and every Task call answers 99991672. */
  taskScope?: boolean | undefined;
  /** Clock in ms, for tests that move time (14-day PATCH window, 1 h uuid window, rate windows). Default Date.now. */
  now?: (() => number) | undefined;
  /** Default: a free port. A fixed one lets a test start Feishu after the bot that calls it. */
  port?: number | undefined;
  /** The long connection's timings; defaults are Feishu's. */
  longConnection?: Partial<LongConnectionOptions> | undefined;
}

/**
 * The first four are the ClientConfig Feishu hands the client, in seconds as Feishu gives them (the SDK multiplies
 * by 1000, so tests may use fractions, as the SDK's own tests do).
 */
export interface LongConnectionOptions {
  /** Default 120. */
  pingIntervalSeconds: number;
  /** Default 120: the wait between reconnect attempts. */
  reconnectIntervalSeconds: number;
  /** Default 30: the first reconnect waits a random part of this. */
  reconnectNonceSeconds: number;
  /** Default -1: reconnect forever. */
  reconnectCount: number;
  /** Default 3000: Feishu's answer deadline; an event not acknowledged by then is redelivered. */
  ackTimeoutMs: number;
  /**
   * Waits before each redelivery of an event whose ack failed, never came, or whose connection dropped. Default
   * 15 s, 5 min, 1 h, 6 h: Feishu's documented schedule for events, assumed the same over the long connection.
   */
  redeliveryDelaysMs: number[];
}

export interface EmulatedChat {
  chatId: string;
  chatType: 'group' | 'p2p';
  /**
   * `topic` for a topic group (话题群): `chat_mode` of the chat look-up; its messages carry a `thread_id` and the
   * ephemeral API refuses it. Default `group`.
   */
  mode?: 'group' | 'topic';
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

/** The calls a hold matches: a fault rule's matching part and count. */
export type HeldCalls = Pick<FaultRule, 'method' | 'path' | 'times'>;

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
  /** The thread's first message, for a reply. */
  rootId?: string;
  /** In a topic group every message belongs to a topic (thread); elsewhere only replies in a thread do. */
  threadId?: string;
  /** Who sent it: a person (`user`) or an app; the bot's messages are `app`. */
  senderType?: 'user' | 'app';
  /** The message's mentions, as `GET` a message answers them. */
  mentions?: Array<{ key: string; id: string; name: string }>;
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

/** A Feishu Task (v2), as the emulator keeps it; `taskAnswer` renders Feishu's shape. */
export interface EmulatedTask {
  guid: string;
  taskId: string;
  summary: string;
  description?: string | undefined;
  due?: { timestamp: string; is_all_day: boolean } | undefined;
  members: Array<{ id: string; role: 'assignee' | 'follower' }>;
  /** Milliseconds as a string; "0" while open. */
  completedAt: string;
  repeatRule?: string | undefined;
  origin?: object | undefined;
  extra?: string | undefined;
  mode: number;
  clientToken?: string | undefined;
  /** The app that created it (its app id). */
  creatorId: string;
  url: string;
  createdAt: number;
  updatedAt: number;
  deleted: boolean;
  /** Who made the last change: the app's id, or the open_id of a person in their Feishu Task app. */
  changedBy: string;
}

/** A change a person makes in their Feishu Task app (`changeTaskAsUser`). */
export type TaskChange =
  | { complete: true }
  | { reopen: true }
  | { delete: true }
  | { assignees: string[] }
  | { summary: string }
  /** A due as the person's client sends it (ms); `allDay` for a date. `null` clears it. */
  | { due: { at: number; allDay?: boolean } | null };

/**
 * Where Feishu pushes the app's events, as its developer console says: a request URL (the bot's event route; signed
 * and encrypted when an Encrypt Key is set) or the long connection the bot opened. `verificationToken` goes in each
 * event's header; `clock` (ms) times the signature, for a test whose bot runs on a clock of its own.
 */
export type EventSubscription =
  | { url: string; verificationToken: string; encryptKey?: string | undefined; clock?: (() => number) | undefined }
  | { longConnection: true; verificationToken: string };

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

/** One push as sent: what a retry sends again. */
export interface Delivery {
  target: string;
  headers: Record<string, string>;
  body: string;
}

export interface EmulatedConnection {
  /** The `device_id` of its URL. */
  id: string;
  openedAt: number;
  closedAt?: number;
  /** Pings received; the first one marks the client ready (its frame listener is attached only once it is open). */
  pings: number;
  /** The `service` of the client's last ping: the URL's `service_id`, as the client read it. */
  service?: number;
  /** Data frames pushed (a fragmented push counts once). */
  pushes: number;
  /** Frames that were not a protobuf `pbbp2.Frame`. */
  badFrames?: number;
}

export interface ConnectionPushOptions {
  /** Split the payload's bytes into this many data frames (`sum`/`seq` headers). Default 1. */
  fragments?: number | undefined;
  /** Deliver only to this connection (default: one picked at random, as Feishu does). */
  connectionId?: string | undefined;
}

export interface ConnectionDelivery {
  connectionId: string | undefined;
  /** acked: code 200; refused: another code (the handler threw) or a malformed ack; dropped: the connection closed first. */
  outcome: 'acked' | 'refused' | 'dropped' | 'timed-out' | 'no-connection';
  /** The ack's `code`: 200, or 500 when the client's handler threw. */
  code?: number | undefined;
  /** The handler's result, decoded from the ack's base64 `data`: the toast and card for a callback. */
  answer?: any | undefined;
  elapsedMs: number;
}

export interface ConnectionPushResult {
  /** Whether a delivery was acked with code 200 (after redeliveries, for an event). */
  delivered: boolean;
  /** The acked delivery's answer. */
  answer: any;
  /** Every attempt, in order: one for a callback, up to 1 + the redeliveries for an event. */
  deliveries: ConnectionDelivery[];
}

export interface PushResult {
  status: number;
  /** Parsed JSON answer, undefined when the answer was not JSON. */
  body: any;
  text: string;
  /** How long the bot took to answer: Feishu gives up after 3 s. */
  elapsedMs: number;
  delivery: Delivery;
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
  /**
   * Holds the calls the rule matches (one by default, as a fault) unanswered until the returned function is called,
   * then handles them normally: a test sees what the bot does meanwhile without waiting for a delay. Release every
   * hold before closing (a held call keeps its connection open).
   */
  hold(rule: HeldCalls): () => void;
  clearFaults(): void;
  messages: Map<string, EmulatedMessage>;
  /** Keyed `${bizId}:${userId}`. */
  feedCards: Map<string, EmulatedFeedCard>;
  chats: Map<string, EmulatedChat>;
  /** Profile time zones by open_id, changeable while running. */
  timeZones: Map<string, string>;
  /** Grants or withdraws the contact read scope. */
  setContactScope(granted: boolean): void;
  /** Feishu Tasks by guid, deleted ones included (`deleted: true`). */
  tasks: Map<string, EmulatedTask>;
  /** Grants or withdraws both task scopes (without them every Task call answers 99991672). */
  setTaskScope(granted: boolean): void;
  /** Whether the app subscribed to task events (`task_v2/task_subscription`). */
  readonly taskEventsSubscribed: boolean;
  /**
   * Where Feishu pushes events of its own accord (the developer console's event subscription); none by default.
   * Once the app subscribed to task events (`task_v2/task_subscription`), every change of one of its tasks, by a
   * person (`changeTaskAsUser`) or by the app's own PATCH or DELETE (Feishu pushes those too), is pushed there as
   * `task.task.update_user_access_v2`, after the call that made it is answered.
   */
  setEventSubscription(subscription: EventSubscription | undefined): void;
  /** Resolves once every event pushed of the emulator's own accord so far has been answered (or given up). */
  eventsSettled(): Promise<void>;
  /**
   * A person changes a task in their Feishu Task app, and Feishu pushes the event saying so to the subscription
   * (unless `eventLost`: events can be missed). Resolves, once the bot answered that push, with the `event_types` the
   * event carries.
   */
  changeTaskAsUser(guid: string, userId: string, change: TaskChange, opts?: { eventLost?: boolean }): Promise<string[]>;
  /** Calls refused by an enforced rate limit (429 or 230020). */
  readonly rateLimitRejections: number;
  /**
   * A message in a chat (a reply when `parentId` is given), as if sent from a Feishu client: a person's by default, or
   * another app's (`senderType: 'app'`, `senderId` its app id); `format: 'post'` sends the words as rich text.
   */
  addExternalMessage(m: {
    chatId: string;
    senderId: string;
    text: string;
    parentId?: string;
    format?: 'text' | 'post';
    senderType?: 'user' | 'app';
    mentions?: Array<{ key: string; openId: string; name: string }>;
    /** When it was sent (ms); now by default. */
    sentAt?: number;
  }): string;
  /** The direct chat between the bot and a person (made on first use, as Feishu makes it on the first message). */
  directChatId(openId: string): string;
  /** Grants or withdraws the message read scope. */
  setMessageScope(granted: boolean): void;
  /** `im:message.group_msg`: without it a group's messages cannot be read, even with a message read scope. */
  setGroupMessageScope(granted: boolean): void;
  revokeTokens(): void;
  /** Forgets calls, messages, uuids, faults, feed cards and rate windows; keeps chats and tokens. */
  reset(): void;
  close(): Promise<void>;
  push(target: string, payload: object, opts?: PushOptions): Promise<PushResult>;
  /** Every push sent or attempted (one the bot never answered too), oldest first; `reset()` forgets them. */
  readonly deliveries: Delivery[];
  /** Sends a push again as Feishu retries it: same body, original timestamp and signature; `to` a new address. */
  redeliver(delivery: Delivery, opts?: { to?: string }): Promise<PushResult>;
  /** Every long connection opened so far, closed ones included, oldest first. */
  connections: EmulatedConnection[];
  /** Resolves once `count` long connections are ready for pushes. */
  awaitConnections(count?: number): Promise<void>;
  /** Pushes an event or callback over a long connection and resolves once it is acked, or Feishu would give up. */
  pushOverConnection(payload: object, opts?: ConnectionPushOptions): Promise<ConnectionPushResult>;
  /**
   * Sends data frames with the `message_id`, `sum` and `seq` given, as a hostile or broken gateway might, awaiting no
   * ack; to every ready connection, or the one named. Returns how many connections they went to.
   */
  sendFragments(fragments: ReadonlyArray<RawFragment>, opts?: { connectionId?: string }): number;
  /** Cuts long connections as a network failure would; all when no id is given. Returns how many. */
  dropConnections(connectionId?: string): number;
}

/** One data frame of `sendFragments`: its headers as given, however wrong. */
export interface RawFragment {
  messageId: string;
  sum: string;
  seq: string;
  payload: Uint8Array;
}
