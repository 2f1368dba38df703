import { type EmulatedMessage, type Emulator, cardActionEvent, messageEvent, validateCard } from '../../emulator';
import type { ClickRequest, TaskChangeRequest, Toast } from '../shared/view';
import type { PlaygroundClock } from './clock';
import { BOT, personById } from './squad';

/**
 * What the people's Feishu clients do on the page's behalf: send a message (recorded in the emulator, pushed to the
 * bot as a signed, encrypted event) and click a card (pushed as a signed, encrypted callback, whose answer the client
 * applies: the toast is shown, a returned card replaces the clicked one). The bot is reached over real HTTP only.
 */

export interface Secrets {
  verificationToken: string;
  encryptKey: string;
}

/** A click as the page reports it: the callback fields Feishu's client fills in. */
export type CardClick = ClickRequest['click'];

/** A leading mention of the bot, typed as `@To-do Bot` or `@Bot`, becomes a real mention in the event. */
const BOT_MENTION = /^@(?:To-do Bot|Bot)(?:\s+|$)/i;
const MENTION_KEY = '@_user_1';

/** Feishu client errors shown when a callback's answer is unusable (feishu-cards.md §7). */
const CLIENT_ERROR = {
  notOk: 'The bot did not answer with HTTP 200 (200671).',
  malformed: 'The bot answered with a malformed body (200672).',
  badCard: "The card in the bot's answer is invalid (200673).",
} as const;

export class FeishuClients {
  constructor(
    private readonly emu: Emulator,
    private readonly botUrl: () => string,
    private readonly secrets: Secrets,
    private readonly clock: PlaygroundClock,
  ) {}

  /** A message in a group (a topic group's starts a topic, or joins the parent's) or in the person's chat with the bot. */
  async say(senderId: string, chatId: string, text: string, parentId?: string): Promise<{ status: number }> {
    const typed = text.trim();
    const mention = BOT_MENTION.exec(typed);
    const messageId = this.emu.addExternalMessage({ chatId, senderId, text: typed, ...(parentId !== undefined && { parentId }) });
    const stored = this.emu.messages.get(messageId);
    const payload = messageEvent({
      token: this.secrets.verificationToken,
      senderId,
      chatId,
      chatType: this.emu.chats.get(chatId)?.chatType ?? 'group',
      messageId,
      ...(parentId !== undefined && { parentId, rootId: stored?.rootId }),
      threadId: stored?.threadId,
      text: mention ? `${MENTION_KEY} ${typed.slice(mention[0].length)}` : typed,
      mentions: mention ? [{ key: MENTION_KEY, openId: BOT.openId, name: BOT.name }] : [],
      createTime: this.clock.now(),
    });
    const answer = await this.emu.push(`${this.botUrl()}/webhook/event`, payload, this.signing());
    return { status: answer.status };
  }

  async click(operatorId: string, message: EmulatedMessage, click: CardClick): Promise<{ toast?: Toast }> {
    const payload = cardActionEvent({
      token: this.secrets.verificationToken,
      operatorId,
      chatId: message.chatId,
      messageId: message.messageId,
      tag: click.tag,
      ...(click.name !== undefined && { name: click.name }),
      value: click.value ?? {},
      ...(click.formValue !== undefined && { formValue: click.formValue }),
      timezone: personById(operatorId)?.timeZone ?? 'UTC',
    });
    const answer = await this.emu.push(`${this.botUrl()}/webhook/card`, payload, this.signing());
    if (answer.status !== 200) return { toast: clientError('notOk') };
    const body = answer.body as { toast?: Toast; card?: { type?: string; data?: unknown } } | undefined;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { toast: clientError('malformed') };
    if (body.card !== undefined) {
      const card = body.card.type === 'raw' ? body.card.data : undefined;
      if (card === null || typeof card !== 'object' || validateCard(card)) return { toast: clientError('badCard') };
      // A 2.0 card is shared: the answer replaces the clicked card for everyone who sees it, as a PATCH would.
      message.card = card;
      message.content = card;
    }
    return body.toast ? { toast: body.toast } : {};
  }

  /**
   * A person completes or reopens a task in their Feishu Task app: the emulator changes the task and pushes
   * `task.task.update_user_access_v2` to the bot itself, as Feishu does; resolves once the bot answered it.
   */
  async changeTask(request: TaskChangeRequest): Promise<{ eventTypes: string[] }> {
    const eventTypes = await this.emu.changeTaskAsUser(request.guid, request.userId, request.change === 'complete' ? { complete: true } : { reopen: true });
    return { eventTypes };
  }

  /** Pushes are signed with the shared clock, so the bot does not find them stale after the clock moved. */
  private signing() {
    return { encryptKey: this.secrets.encryptKey, timestamp: Math.floor(this.clock.now() / 1000) };
  }
}

function clientError(kind: keyof typeof CLIENT_ERROR): Toast {
  return { type: 'error', content: CLIENT_ERROR[kind] };
}
