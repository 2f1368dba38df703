import type { ChatAdmins } from '../feishu/client';

/**
 * Who administers a chat: its owner and its managers, as Feishu reports them, cached briefly so a burst of
 * commands costs one lookup while a change of admins is noticed within the cache time.
 */
export class AdminDirectory {
  private readonly cache = new Map<string, { admins: Set<string>; expiresAt: number }>();

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
    if (cached && cached.expiresAt > this.now()) return cached.admins;
    const { ownerId, managerIds } = await this.lookup(chatId);
    const admins = new Set(ownerId ? [ownerId, ...managerIds] : managerIds);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(chatId, { admins, expiresAt: this.now() + this.ttlMs });
    return admins;
  }
}
