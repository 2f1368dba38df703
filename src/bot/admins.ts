import pTimeout from 'p-timeout';
import type { ChatAdmins, ChatMode } from '../feishu/client';
import { isTransient } from '../feishu/errors';
import type { MessageKey } from '../i18n';
import { sayFailure } from './feishu-sentences';

/**
 * How long a click waits for the chat's admins when they are not cached: with the profile zone's wait (1 s) the
 * click is still answered inside its 2.5 s deadline, rather than with "Working on it…" and a refusal never shown.
 */
export const CLICK_ADMIN_WAIT_MS = 1_000;

/**
 * What a click is told when its admin check failed: Feishu's reason when it refused for good (the bot no longer in
 * the chat, a scope missing), which trying again cannot mend; else to try again.
 */
export function adminCheckFailure(error: unknown): MessageKey {
  return isTransient(error) || error instanceof AdminLookupTooSlow ? 'toast.permissionUnknown' : sayFailure(error, 'toast.permissionUnknown');
}

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

  /**
   * Whether `userId` administers the chat. With `waitMs` (a click, whose answer is due within 2.5 s while Feishu's
   * retries may take 30) it gives up after that long with `AdminLookupTooSlow`; the look-up goes on and fills the
   * cache for the next click.
   */
  async isAdmin(chatId: string, userId: string, waitMs?: number): Promise<boolean> {
    return (await within(this.chatOf(chatId), waitMs)).admins.has(userId);
  }

  /**
   * Whether the chat is a topic group (no ephemeral cards there), from the same cached look-up. A chat Feishu refuses
   * to describe counts as an ordinary group; a failure a retry can cure is thrown, for the job to retry.
   */
  async chatMode(chatId: string, waitMs?: number): Promise<ChatMode> {
    try {
      return (await within(this.chatOf(chatId), waitMs)).mode;
    } catch (error) {
      if (isTransient(error) || error instanceof AdminLookupTooSlow) throw error;
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

/** A look-up that did not answer within the wait its caller could afford. */
export class AdminLookupTooSlow extends Error {
  constructor() {
    super('the chat look-up did not answer in time');
  }
}

function within<T>(answer: Promise<T>, waitMs: number | undefined): Promise<T> {
  return waitMs === undefined ? answer : pTimeout(answer, { milliseconds: waitMs, message: new AdminLookupTooSlow() });
}

interface KnownChat {
  admins: Set<string>;
  mode: ChatMode;
}
