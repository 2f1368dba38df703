import { randomBytes } from 'node:crypto';
import { Code, FeishuError, refuse } from './errors';
import { taskUpdateEvent } from './events';
import { SlidingWindows, type Window } from './rate-limits';
import type { EmulatedChat, EmulatedFeedCard, EmulatedMessage, EmulatedTask, EmulatorOptions, LongConnectionOptions, RecordedCall } from './types';

const UUID_WINDOW_MS = 60 * 60 * 1000;

const LONG_CONNECTION_DEFAULTS: LongConnectionOptions = {
  pingIntervalSeconds: 120,
  reconnectIntervalSeconds: 120,
  reconnectNonceSeconds: 30,
  reconnectCount: -1,
  ackTimeoutMs: 3000,
  redeliveryDelaysMs: [15_000, 300_000, 3_600_000, 21_600_000],
};

export function defaultChats(): EmulatedChat[] {
  return [
    {
      chatId: 'oc_group',
      chatType: 'group',
      ownerId: 'ou_owner',
      managerIds: ['ou_admin'],
      memberIds: ['ou_owner', 'ou_admin', 'ou_member', 'ou_alice', 'ou_bob'],
    },
  ];
}

/** Everything the fake platform knows. Handlers read and change it; the server never does. */
export class EmulatorState {
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly tenantKey = 'tenant_test';
  readonly now: () => number;
  readonly chats = new Map<string, EmulatedChat>();
  readonly messages = new Map<string, EmulatedMessage>();
  readonly feedCards = new Map<string, EmulatedFeedCard>();
  readonly calls: RecordedCall[] = [];
  readonly longConnection: LongConnectionOptions;
  /** Profile time zones by open_id; a chat member without one has the tenant's default. */
  readonly timeZones = new Map<string, string>();
  /** Whether the app holds a contact read scope; without one the contact API answers 99991672. */
  contactScopeGranted: boolean;
  /** Whether the app holds a message read scope; without one reading a message answers 99991672. */
  messageScopeGranted: boolean;
  groupMessageScopeGranted: boolean;
  readonly names = new Map<string, string>();
  readonly unavailableUsers = new Set<string>();
  /** Feishu Tasks by guid, deleted ones kept (marked) so a late call still finds them gone. */
  readonly tasks = new Map<string, EmulatedTask>();
  /** Whether the app holds the task scopes; without them every Task call answers 99991672. */
  taskScopeGranted: boolean;
  taskEventsSubscribed = false;
  /**
   * Pushes a task event where the app's console says (the running emulator's `EventPusher`); until one is connected,
   * a change is pushed nowhere.
   */
  pushEvent: (build: (token: string) => object) => Promise<void> = () => Promise.resolve();
  rateLimitRejections = 0;

  private readonly tokenTtlSeconds: number;
  private readonly enforceRateLimits: boolean;
  private readonly windows = new SlidingWindows();
  /** token → expiry (ms) */
  private readonly tokens = new Map<string, number>();
  /** client_token → the task it created */
  private readonly taskClientTokens = new Map<string, string>();
  /** uuid → message it created */
  private readonly uuids = new Map<string, string>();
  /** Long-connection ticket → the device id it was issued with; each is good for one handshake. */
  private readonly connectionTickets = new Map<string, string>();
  private lastMessageNumber = 0;
  private lastThreadNumber = 0;
  private lastEphemeralNumber = 0;
  private lastSeq = 0;

  constructor(options: EmulatorOptions) {
    this.appId = options.appId ?? 'cli_test_app';
    this.appSecret = options.appSecret ?? 'test-app-secret';
    this.botOpenId = options.botOpenId ?? 'ou_bot';
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 7200;
    this.enforceRateLimits = options.enforceRateLimits ?? false;
    this.now = options.now ?? Date.now;
    this.longConnection = { ...LONG_CONNECTION_DEFAULTS, ...options.longConnection };
    for (const chat of options.chats ?? defaultChats()) this.chats.set(chat.chatId, chat);
    for (const [openId, zone] of Object.entries(options.timeZones ?? {})) this.timeZones.set(openId, zone);
    this.contactScopeGranted = options.contactScope ?? true;
    this.messageScopeGranted = options.messageScope ?? true;
    this.groupMessageScopeGranted = true;
    for (const [openId, name] of Object.entries(options.names ?? {})) this.names.set(openId, name);
    for (const openId of options.unavailableUsers ?? []) this.unavailableUsers.add(openId);
    this.taskScopeGranted = options.taskScope ?? true;
  }

  /** The bot's direct chat with a person, with a chat id of its own, made on first use. */
  directChat(openId: string): EmulatedChat {
    const chatId = `oc_p2p_${openId.replace(/^ou_/, '')}`;
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = { chatId, chatType: 'p2p', ownerId: openId, managerIds: [], memberIds: [openId] };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  /** A new topic's id in a topic group. */
  nextThreadId(): string {
    return `omt_${++this.lastThreadNumber}`;
  }

  /** The task a `client_token` created: Feishu answers a repeated create with it. */
  taskByClientToken(token: string): EmulatedTask | undefined {
    const guid = this.taskClientTokens.get(token);
    return guid === undefined ? undefined : this.tasks.get(guid);
  }

  addTask(task: EmulatedTask): void {
    this.tasks.set(task.guid, task);
    if (task.clientToken !== undefined) this.taskClientTokens.set(task.clientToken, task.guid);
  }

  /**
   * Feishu tells the app of a change to one of its tasks (by a person or by the app itself) once the app subscribed to
   * task events; resolves when the bot answered the push.
   */
  taskChanged(task: EmulatedTask, eventTypes: string[]): Promise<void> {
    if (!this.taskEventsSubscribed) return Promise.resolve();
    return this.pushEvent((token) => taskUpdateEvent({ token, taskGuid: task.guid, eventTypes, appId: this.appId }));
  }

  issueToken(): { token: string; expire: number } {
    const token = `t-${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, this.now() + this.tokenTtlSeconds * 1000);
    return { token, expire: this.tokenTtlSeconds };
  }

  isLiveToken(token: string): boolean {
    const expiry = this.tokens.get(token);
    return expiry !== undefined && expiry > this.now();
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  /** A device id, ticket and access key for one long-connection handshake. */
  grantConnection(): { deviceId: string; ticket: string; accessKey: string } {
    const deviceId = String(7_000_000_000_000_000_000n + BigInt(`0x${randomBytes(7).toString('hex')}`));
    const ticket = randomBytes(16)
      .toString('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
    this.connectionTickets.set(ticket, deviceId);
    return { deviceId, ticket, accessKey: randomBytes(16).toString('hex') };
  }

  redeemConnectionTicket(ticket: string, deviceId: string): boolean {
    const issuedTo = this.connectionTickets.get(ticket);
    this.connectionTickets.delete(ticket);
    return issuedTo !== undefined && issuedTo === deviceId;
  }

  /** The ClientConfig of the endpoint answer and of every pong. */
  clientConfig() {
    const lc = this.longConnection;
    return {
      ReconnectCount: lc.reconnectCount,
      ReconnectInterval: lc.reconnectIntervalSeconds,
      ReconnectNonce: lc.reconnectNonceSeconds,
      PingInterval: lc.pingIntervalSeconds,
    };
  }

  nextSeq(): number {
    return ++this.lastSeq;
  }

  /** Every call as it arrives, before it is answered (a held call is here long before it is in `calls`). */
  readonly arrivals: Array<{ method: string; path: string }> = [];

  /** Ids keep counting across reset() so an id a test kept from before can never name a new message. */
  nextMessageId(kind: 'ephemeral' | 'other'): string {
    return kind === 'ephemeral' ? `om_eph_${++this.lastEphemeralNumber}` : `om_${++this.lastMessageNumber}`;
  }

  /** The message a uuid created within the last hour: Feishu answers a repeat with it and sends nothing. */
  messageByUuid(uuid: string): EmulatedMessage | undefined {
    const id = this.uuids.get(uuid);
    const message = id === undefined ? undefined : this.messages.get(id);
    return message && this.now() - message.createdAt < UUID_WINDOW_MS ? message : undefined;
  }

  store(message: EmulatedMessage): void {
    this.messages.set(message.messageId, message);
    if (message.uuid !== undefined) this.uuids.set(message.uuid, message.messageId);
  }

  /** App-wide limits, enforced by Feishu's gateway: HTTP 429 with the reset header. */
  limitApp(windows: Window[]): void {
    const refusal = this.admit(windows);
    if (!refusal) return;
    throw new FeishuError(429, Code.appRateLimited, 'request trigger frequency limit', {
      'x-ogw-ratelimit-limit': String(refusal.window.limit),
      'x-ogw-ratelimit-reset': String(refusal.resetSeconds),
    });
  }

  /** Per-chat and per-message limits, enforced by the IM service: HTTP 400 with 230020. */
  limitLocal(windows: Window[]): void {
    if (this.admit(windows)) throw refuse(Code.rateLimitedInChat, 'This operation triggers the frequency limit.');
  }

  reset(): void {
    this.calls.length = 0;
    this.arrivals.length = 0;
    this.messages.clear();
    this.uuids.clear();
    this.feedCards.clear();
    this.tasks.clear();
    this.taskClientTokens.clear();
    this.windows.clear();
    this.rateLimitRejections = 0;
    this.lastSeq = 0;
  }

  private admit(windows: Window[]) {
    if (!this.enforceRateLimits) return null;
    const refusal = this.windows.admit(windows, this.now());
    if (refusal) this.rateLimitRejections += 1;
    return refusal;
  }
}
