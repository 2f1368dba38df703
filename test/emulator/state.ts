import { randomBytes } from 'node:crypto';
import { Code, FeishuError, refuse } from './errors';
import { SlidingWindows, type Window } from './rate-limits';
import type { EmulatedChat, EmulatedFeedCard, EmulatedMessage, EmulatorOptions, RecordedCall } from './types';

const UUID_WINDOW_MS = 60 * 60 * 1000;

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
  rateLimitRejections = 0;

  private readonly tokenTtlSeconds: number;
  private readonly enforceRateLimits: boolean;
  private readonly windows = new SlidingWindows();
  /** token → expiry (ms) */
  private readonly tokens = new Map<string, number>();
  /** uuid → message it created */
  private readonly uuids = new Map<string, string>();
  private lastMessageNumber = 0;
  private lastEphemeralNumber = 0;
  private lastSeq = 0;

  constructor(options: EmulatorOptions) {
    this.appId = options.appId ?? 'cli_test_app';
    this.appSecret = options.appSecret ?? 'test-app-secret';
    this.botOpenId = options.botOpenId ?? 'ou_bot';
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 7200;
    this.enforceRateLimits = options.enforceRateLimits ?? false;
    this.now = options.now ?? Date.now;
    for (const chat of options.chats ?? defaultChats()) this.chats.set(chat.chatId, chat);
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
