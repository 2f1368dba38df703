import type { ChatAdmins, ChatMode } from '../feishu/client';
import { isTransient } from '../feishu/errors';

/**
 * Who administers a chat: its owner and its managers, as Feishu reports them, cached briefly so a burst of
 * commands costs one lookup (concurrent ones share the call in flight) while a change of admins is noticed within
 * the cache time. Feishu's refusal to describe a chat (unknown, or the bot not in it) is cached as long: otherwise
 * every command in such a chat, and every retry, asked again. Failures a retry can cure (network, 5xx, rate limits)
 * are not cached.
 */
export class AdminDirectory {
  private readonly cache = new Map<string, { chat: Promise<KnownChat>; expiresAt: number }>();

  constructor(
    private readonly lookup: (chatId: string) => Promise<ChatAdmins>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async isAdmin(chatId: string, userId: string): Promise<boolean> {
    return (await this.chatOf(chatId)).admins.has(userId);
  }

  /**
   * Whether the chat is a topic group (no ephemeral cards there), from the same cached look-up. A chat Feishu refuses
   * to describe counts as an ordinary group; a failure a retry can cure is thrown, for the job to retry.
   */
  async chatMode(chatId: string): Promise<ChatMode> {
    try {
      return (await this.chatOf(chatId)).mode;
    } catch (error) {
      if (isTransient(error)) throw error;
      return 'group';
    }
  }

  private chatOf(chatId: string): Promise<KnownChat> {
    const cached = this.cache.get(chatId);
    if (cached && cached.expiresAt > this.now()) return cached.chat;
    const chat = this.lookup(chatId).then(({ ownerId, managerIds, mode }) => ({
      admins: new Set(ownerId ? [ownerId, ...managerIds] : managerIds),
      mode: mode ?? 'group',
    }));
    // Shared while in flight; the cache time starts when the answer (or the refusal) arrives.
    const entry = { chat, expiresAt: Number.POSITIVE_INFINITY };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(chatId, entry);
    chat.then(
      () => {
        entry.expiresAt = this.now() + this.ttlMs;
      },
      (error: unknown) => {
        if (!isTransient(error)) entry.expiresAt = this.now() + this.ttlMs;
        else if (this.cache.get(chatId) === entry) this.cache.delete(chatId);
      },
    );
    return chat;
  }
}

interface KnownChat {
  admins: Set<string>;
  mode: ChatMode;
}
