import { setMaxListeners } from 'node:events';
import { canonicalZone } from '../domain/zones';
import type { Logger } from '../log';
import { meaningOf } from './error-codes';
import { FeishuApiError, feishuRefusal } from './errors';
import { milliseconds } from './events';
import type { Limiter } from './rate-limits';
import { LazySdkClient } from './sdk';
import { FeishuTasks } from './tasks';
import { DEFAULT_RETRY, type FeishuObserver, type RetryPolicy, Transport } from './transport';

/**
 * The bot's only door to Feishu. Builds the SDK client (pointed at `domain`, so tests use the emulator) and
 * exposes named calls; every one goes through the transport's limits, retries and error normalisation.
 */

export interface FeishuClientOptions {
  appId: string;
  appSecret: string;
  domain: string;
  timeoutMs: number;
  logger: Logger;
  retry?: Partial<RetryPolicy> | undefined;
  /** How a call waits before its next attempt (default: a timer); tests record the waits rather than sit through them. */
  retryWait?: ((ms: number) => Promise<void>) | undefined;
  /** Told of every attempt and rate-limit wait (the metrics). */
  observer?: FeishuObserver;
  /** With several instances, the limiter they share, given the longest wait to accept (each process has its answer windows). */
  limiter?: ((maxWaitMs: number) => Limiter) | undefined;
}

/** Codes with which Feishu refuses the app's credentials themselves (no retry or restart can help). */
export const CREDENTIAL_CODES: ReadonlySet<number> = new Set([10003, 10014]);

/** What the bot last knew of Feishu, for /healthz. */
export interface FeishuReachability {
  /** When Feishu last answered anything (even a refusal); undefined: not yet. */
  lastAnswerAt?: number;
  /** When a call last failed to get any answer (the log says why). */
  lastNetworkErrorAt?: number;
}

export interface BotInfo {
  openId: string;
  appName: string;
}

export interface ChatAdmins {
  ownerId?: string | undefined;
  managerIds: string[];
  /** `topic` for a topic group (话题群), where Feishu has no ephemeral cards; `group` (the default) or `p2p` otherwise. */
  mode?: ChatMode;
}

export type ChatMode = 'group' | 'topic' | 'p2p';

/** A chat message as `GET /open-apis/im/v1/messages/:message_id` describes it. */
export interface ChatMessage {
  messageId: string;
  chatId?: string | undefined;
  msgType?: string | undefined;
  /** The content JSON string, as in the receive event. */
  content?: string | undefined;
  /** A person's open_id, or an app id when a bot sent it. */
  senderId?: string | undefined;
  senderType?: string | undefined;
  senderName?: string | undefined;
  deleted: boolean;
  mentions: Array<{ key: string; id?: string; name: string }>;
  /** When it was sent (its `create_time`, ms). */
  sentAt?: number | undefined;
}

/** A member of a chat, as its member list names them. */
export interface ChatMember {
  openId: string;
  name: string;
}

/** Why one feed card of a batch failed (seed 001): 0 unknown, 1 no permission, 2 not created, 3 rate limited, 4 duplicate. */
export type FeedCardFailureReason = 0 | 1 | 2 | 3 | 4;

export interface FeedCardFailure {
  userId: string;
  reason: FeedCardFailureReason;
}

export interface FeedCardContent {
  bizId: string;
  title: string;
  preview: string;
  link: string;
  status: { text: string; type: 'primary' | 'secondary' | 'success' | 'danger' };
}

/** Feishu documents the reason as a digit string; its own example shows a name. Both are read. */
const FAILURE_NAMES: Record<string, FeedCardFailureReason> = {
  UNKNOWN: 0,
  NO_PERMISSION: 1,
  NOT_CREATED: 2,
  NOT_EXIST: 2,
  RATE_LIMIT: 3,
  RATE_LIMITED: 3,
  DUPLICATE: 4,
};

function failureReason(raw: unknown): FeedCardFailureReason {
  const value = typeof raw === 'string' && raw in FAILURE_NAMES ? FAILURE_NAMES[raw] : Number(raw);
  return value === 1 || value === 2 || value === 3 || value === 4 ? value : 0;
}

/** Feishu takes at most 20 feed cards per call. */
export const FEED_CARD_BATCH = 20;

export class FeishuClient {
  private readonly sdk: LazySdkClient;
  private readonly transport: Transport;
  private readonly limiter: Limiter | undefined;
  /** Aborted at stop: waits and retries end, no new attempt starts. */
  private readonly waits = new AbortController();
  /** Aborted after the running calls' grace: requests still on the wire are cancelled. */
  private readonly requests = new AbortController();
  readonly reachability: FeishuReachability = {};
  /** Feishu Task v2 calls, through the same limits, retries and errors. */
  readonly tasks: FeishuTasks;

  constructor(options: FeishuClientOptions) {
    // Every call waiting for a permit, a retry or an answer listens to these, so hundreds may at once (a burst
    // through the fleet's limiter); each listener goes when its wait ends, which is no leak to warn about.
    setMaxListeners(Number.POSITIVE_INFINITY, this.waits.signal, this.requests.signal);
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sdk = new LazySdkClient({ ...options, stopping: this.waits.signal, requests: this.requests.signal });
    this.limiter = options.limiter?.(retry.maxWaitMs);
    this.transport = new Transport({
      limiter: this.limiter,
      retry,
      sleep: options.retryWait,
      logger: options.logger.child({ module: 'feishu.client' }),
      invalidateToken: () => this.sdk.invalidateToken(),
      stopping: this.waits.signal,
      observer: {
        attempt: (api, result, seconds) => {
          if (result === 'network') this.reachability.lastNetworkErrorAt = Date.now();
          else this.reachability.lastAnswerAt = Date.now();
          options.observer?.attempt(api, result, seconds);
        },
        rateLimitWait: (method, seconds) => options.observer?.rateLimitWait(method, seconds),
      },
    });
    this.tasks = new FeishuTasks(() => this.sdk.get(), this.transport);
  }

  /** Stops every wait and retry now; calls already sent go on until `abortRequests`. */
  stopWaiting(): void {
    this.waits.abort();
  }

  /** Cancels every request still waiting for Feishu's answer. */
  abortRequests(): void {
    this.requests.abort();
  }

  /** The bot's identity; also proves the credentials (it needs a tenant token). `attempts: 1` reports at once. */
  async botInfo(attempts?: number): Promise<BotInfo> {
    const answer = await this.transport.call({
      name: 'bot.v3.info',
      attempts,
      run: () =>
        this.sdk.get().request<{ code: number; msg: string; bot?: { open_id?: string; app_name?: string } }>({ method: 'GET', url: '/open-apis/bot/v3/info' }),
    });
    return { openId: answer.bot?.open_id ?? '', appName: answer.bot?.app_name ?? '' };
  }

  async chatAdmins(chatId: string): Promise<ChatAdmins> {
    const answer = await this.transport.call({
      name: 'im.v1.chat.get',
      run: () => this.sdk.get().im.v1.chat.get({ path: { chat_id: chatId }, params: { user_id_type: 'open_id' } }),
    });
    const mode = answer.data?.chat_mode;
    return {
      ownerId: answer.data?.owner_id,
      managerIds: answer.data?.user_manager_id_list ?? [],
      mode: mode === 'topic' || mode === 'p2p' ? mode : 'group',
    };
  }

  /**
   * A message of a chat the bot is in (a `/todo`'s source). Needs a message read scope (`im:message:readonly` or
   * `im:message`) and, for a group's message, `im:message.group_msg`: without them Feishu refuses with 99991672.
   */
  async readMessage(messageId: string): Promise<ChatMessage> {
    const answer = await this.transport.call({
      name: 'im.v1.message.get',
      limit: { method: 'message.get', keys: {} },
      attempts: 2,
      run: () => this.sdk.get().im.v1.message.get({ path: { message_id: messageId }, params: { user_id_type: 'open_id', with_sender_name: true } }),
    });
    const item = answer.data?.items?.[0];
    return {
      messageId,
      chatId: item?.chat_id,
      msgType: item?.msg_type,
      content: item?.body?.content,
      senderId: item?.sender?.id,
      senderType: item?.sender?.sender_type,
      senderName: item?.sender?.sender_name,
      deleted: item === undefined || item.deleted === true,
      mentions: (item?.mentions ?? []).map((m) => ({ key: m.key, id: m.id, name: m.name })),
      sentAt: milliseconds(item?.create_time),
    };
  }

  /** The people of a chat (bots are not listed), at most `limit`, for a person picker that cannot list them itself. */
  async chatMembers(chatId: string, limit: number): Promise<ChatMember[]> {
    const members: ChatMember[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await this.transport.call({
        name: 'im.v1.chat_members.get',
        limit: { method: 'chat.members', keys: {} },
        run: () =>
          this.sdk.get().im.v1.chatMembers.get({
            path: { chat_id: chatId },
            params: { member_id_type: 'open_id', page_size: 100, ...(pageToken !== undefined && { page_token: pageToken }) },
          }),
      });
      for (const m of answer.data?.items ?? []) if (m.member_id) members.push({ openId: m.member_id, name: m.name ?? m.member_id });
      pageToken = answer.data?.has_more ? answer.data.page_token : undefined;
    } while (pageToken !== undefined && members.length < limit);
    return members.slice(0, limit);
  }

  /**
   * The time zone in a person's Feishu profile, canonical, or undefined when the profile has none that is a real
   * zone. Needs a contact read scope: without one Feishu refuses (99991672), and the caller treats that as unknown.
   */
  async userTimeZone(openId: string): Promise<string | undefined> {
    const answer = await this.transport.call({
      name: 'contact.v3.user.get',
      limit: { method: 'contact.user', keys: {} },
      // A zone is a hint with a fallback: one retry for a blip, not five rounds of backoff against a struggling Feishu.
      attempts: 2,
      run: () => this.sdk.get().contact.v3.user.get({ path: { user_id: openId }, params: { user_id_type: 'open_id' } }),
    });
    return canonicalZone(answer.data?.user?.time_zone);
  }

  async sendEphemeral(p: { chatId: string; openId: string; card: object }): Promise<string> {
    const answer = await this.transport.call({
      name: 'ephemeral.v1.send',
      limit: { method: 'ephemeral.send', keys: { chatId: p.chatId } },
      run: () =>
        this.sdk.get().request<{ code: number; msg: string; data?: { message_id?: string } }>({
          method: 'POST',
          url: '/open-apis/ephemeral/v1/send',
          data: { chat_id: p.chatId, open_id: p.openId, msg_type: 'interactive', card: p.card },
        }),
    });
    return requireId('ephemeral.v1.send', answer.data?.message_id);
  }

  /** Resolves `true` when this call deleted the card, `false` when it was already gone (18051). */
  async deleteEphemeral(messageId: string): Promise<boolean> {
    return this.unlessDone(() =>
      this.transport.call({
        name: 'ephemeral.v1.delete',
        limit: { method: 'ephemeral.delete', keys: {} },
        run: () => this.sdk.get().request({ method: 'POST', url: '/open-apis/ephemeral/v1/delete', data: { message_id: messageId } }),
      }),
    );
  }

  /**
   * Posts a card to a chat. The same `uuid` on every try (and every restart) makes Feishu drop repeats. `bulk`: one of
   * very many sends at once (see `message.bulkSend`), paced under the app's limits too.
   */
  async sendCard(p: { chatId: string; card: object; uuid: string; bulk?: boolean }): Promise<string> {
    const answer = await this.transport.call({
      name: 'im.v1.message.create',
      limit: { method: p.bulk ? 'message.bulkSend' : 'message.send', keys: { chatId: p.chatId } },
      run: () =>
        this.sdk.get().im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: p.chatId, msg_type: 'interactive', content: JSON.stringify(p.card), uuid: p.uuid },
        }),
    });
    return requireId('im.v1.message.create', answer.data?.message_id);
  }

  /**
   * Sends a card to one person, in the bot's direct chat with them (`receive_id_type=open_id`). Resolves the message
   * and that chat's id: clicks on the card come from it. Refused (230013) for someone outside the app's availability.
   */
  async sendDirect(p: { openId: string; card: object; uuid: string }): Promise<{ messageId: string; chatId: string }> {
    const answer = await this.transport.call({
      name: 'im.v1.message.create',
      run: () =>
        this.sdk.get().im.v1.message.create({
          params: { receive_id_type: 'open_id' },
          data: { receive_id: p.openId, msg_type: 'interactive', content: JSON.stringify(p.card), uuid: p.uuid },
        }),
    });
    return { messageId: requireId('im.v1.message.create', answer.data?.message_id), chatId: answer.data?.chat_id ?? '' };
  }

  async replyCard(p: { chatId: string; parentId: string; card: object; uuid: string }): Promise<string> {
    const answer = await this.transport.call({
      name: 'im.v1.message.reply',
      limit: { method: 'message.send', keys: { chatId: p.chatId } },
      run: () =>
        this.sdk.get().im.v1.message.reply({
          path: { message_id: p.parentId },
          data: { msg_type: 'interactive', content: JSON.stringify(p.card), uuid: p.uuid },
        }),
    });
    return requireId('im.v1.message.reply', answer.data?.message_id);
  }

  /** Replaces a card the bot sent. Resolves `false` when the message is gone (recalled or deleted). */
  async patchCard(p: { messageId: string; card: object }): Promise<boolean> {
    return this.unlessDone(() =>
      this.transport.call({
        name: 'im.v1.message.patch',
        limit: { method: 'message.patch', keys: { messageId: p.messageId } },
        run: () => this.sdk.get().im.v1.message.patch({ path: { message_id: p.messageId }, data: { content: JSON.stringify(p.card) } }),
      }),
    );
  }

  /** Resolves `true` when this call recalled the message, `false` when it was already gone (230110/230011). */
  async recall(messageId: string): Promise<boolean> {
    return this.unlessDone(() =>
      this.transport.call({
        name: 'im.v1.message.delete',
        limit: { method: 'message.recall', keys: {} },
        run: () => this.sdk.get().im.v1.message.delete({ path: { message_id: messageId } }),
      }),
    );
  }

  /** Creates one feed card per user (at most 20). A duplicate (reason 4) is not reported: the card exists. */
  async createFeedCards(card: FeedCardContent, userIds: string[]): Promise<FeedCardFailure[]> {
    const answer = await this.transport.call({
      name: 'im.v2.app_feed_card.create',
      limit: { method: 'feedCard', keys: {} },
      run: () =>
        this.sdk.get().im.v2.appFeedCard.create({
          params: { user_id_type: 'open_id' },
          data: {
            app_feed_card: {
              biz_id: card.bizId,
              title: card.title,
              preview: card.preview,
              status_label: card.status,
              link: { link: card.link },
              time_sensitive: false,
            },
            user_ids: userIds,
          },
        }),
    });
    return failures(answer.data?.failed_cards).filter((f) => f.reason !== 4);
  }

  /** Deletes feed cards (at most 20). Cards never created (2) or duplicates (4) count as gone and are not reported. */
  async deleteFeedCards(bizId: string, userIds: string[]): Promise<FeedCardFailure[]> {
    const answer = await this.transport.call({
      name: 'im.v2.app_feed_card.batch.delete',
      limit: { method: 'feedCard', keys: {} },
      run: () =>
        this.sdk.get().im.v2.appFeedCardBatch.delete({
          params: { user_id_type: 'open_id' },
          data: { feed_cards: userIds.map((userId) => ({ biz_id: bizId, user_id: userId })) },
        }),
    });
    return failures(answer.data?.failed_cards).filter((f) => f.reason !== 2 && f.reason !== 4);
  }

  /** Drops idle per-chat limiter state; called on the housekeeping schedule. */
  async sweepLimits(): Promise<void> {
    this.transport.sweep();
    await this.limiter?.sweep();
  }

  private async unlessDone(call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      if (error instanceof FeishuApiError && meaningOf(error.feishuCode).done) return false;
      throw error;
    }
  }
}

function failures(list: Array<{ user_id: string; reason?: unknown }> | undefined): FeedCardFailure[] {
  return (list ?? []).map((f) => ({ userId: f.user_id, reason: failureReason(f.reason) }));
}

function requireId(method: string, id: string | undefined): string {
  if (!id) throw new FeishuApiError(method, -1, 'answer carried no message_id', 200);
  return id;
}

/** Whether `error` says the app's own credentials were refused (as opposed to Feishu being unreachable). */
export function credentialsRefused(error: unknown): FeishuApiError | undefined {
  const refusal = feishuRefusal(error);
  return refusal && CREDENTIAL_CODES.has(refusal.feishuCode) ? refusal : undefined;
}
