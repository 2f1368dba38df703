import type { ChatAdmins } from '../feishu/client';
import { isTransient } from '../feishu/errors';

/**
 * Who administers a chat: its owner and its managers, as Feishu reports them, cached briefly so a burst of
 * commands costs one lookup while a change of admins is noticed within the cache time. Feishu's refusal to describe
 * a chat (unknown, or the bot not in it) is cached as long: otherwise every command in such a chat, and every
 * retry, asked again. Failures a retry can cure (network, 5xx, rate limits) are not cached.
 */
type Entry = ({ admins: Set<string> } | { refusal: unknown }) & { expiresAt: number };

export class AdminDirectory {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly lookup: (chatId: string) => Promise<ChatAdmins>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async isAdmin(chatId: string, userId: string): Promise<boolean> {
    return (await this.adminsOf(chatId)).has(userId);
  }

  private async adminsOf(chatId: string): Promise<Set<string>> {
    const cached = this.cache.get(chatId);
    if (cached && cached.expiresAt > this.now()) {
      if ('refusal' in cached) throw cached.refusal;
      return cached.admins;
    }
    let answer: ChatAdmins;
    try {
      answer = await this.lookup(chatId);
    } catch (error) {
      if (!isTransient(error)) this.remember(chatId, { refusal: error, expiresAt: this.now() + this.ttlMs });
      throw error;
    }
    const admins = new Set(answer.ownerId ? [answer.ownerId, ...answer.managerIds] : answer.managerIds);
    this.remember(chatId, { admins, expiresAt: this.now() + this.ttlMs });
    return admins;
  }

  private remember(chatId: string, entry: Entry): void {
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(chatId, entry);
  }
}
