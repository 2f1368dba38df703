import type { ChatAdmins } from '../feishu/client';
import { isTransient } from '../feishu/errors';

/**
 * Who administers a chat: its owner and its managers, as Feishu reports them, cached briefly so a burst of
 * commands costs one lookup (concurrent ones share the call in flight) while a change of admins is noticed within
 * the cache time. Feishu's refusal to describe a chat (unknown, or the bot not in it) is cached as long: otherwise
 * every command in such a chat, and every retry, asked again. Failures a retry can cure (network, 5xx, rate limits)
 * are not cached.
 */
export class AdminDirectory {
  private readonly cache = new Map<string, { admins: Promise<Set<string>>; expiresAt: number }>();

  constructor(
    private readonly lookup: (chatId: string) => Promise<ChatAdmins>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async isAdmin(chatId: string, userId: string): Promise<boolean> {
    return (await this.adminsOf(chatId)).has(userId);
  }

  private adminsOf(chatId: string): Promise<Set<string>> {
    const cached = this.cache.get(chatId);
    if (cached && cached.expiresAt > this.now()) return cached.admins;
    const admins = this.lookup(chatId).then(({ ownerId, managerIds }) => new Set(ownerId ? [ownerId, ...managerIds] : managerIds));
    // Shared while in flight; the cache time starts when the answer (or the refusal) arrives.
    const entry = { admins, expiresAt: Number.POSITIVE_INFINITY };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(chatId, entry);
    admins.then(
      () => {
        entry.expiresAt = this.now() + this.ttlMs;
      },
      (error: unknown) => {
        if (!isTransient(error)) entry.expiresAt = this.now() + this.ttlMs;
        else if (this.cache.get(chatId) === entry) this.cache.delete(chatId);
      },
    );
    return admins;
  }
}
