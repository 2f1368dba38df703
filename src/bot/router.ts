import compose from 'koa-compose';
import type { CommandHelp } from '../../cards/help';
import type { Language } from '../domain/languages';
import type { Mention, MessageEvent } from '../feishu/events';
import { type MessageKey, type MessageValues, t } from '../i18n';
import type { JobContext } from '../jobs/registry';
import { COMMAND_NAMES, type CommandId, type ParsedMessage, isKnownCommand, leadingMentionKeys, mayBeCommand, parseMessage } from './commands';
import { type Notice, noticeJob } from './jobs/notice';
import { chatLanguage, languageOfMessage } from './language';
import type { Services } from './services';

/**
 * Commands composed as middleware, as grammY's Composer and Koa do: each command is a list of guards and a
 * handler, and a guard that refuses simply does not call `next`. The list of commands is also the help text.
 */

/**
 * What a command uses of a message, and all that is stored of one: no sender type, no mention names. A MessageEvent
 * is one, so it can be routed directly too.
 */
export type CommandMessage = Pick<MessageEvent, 'eventId' | 'messageId' | 'chatId' | 'chatType' | 'senderId' | 'parentId' | 'threadId' | 'text' | 'sentAt'> & {
  /** `name` only where the command writes it into its text (`/todo ask @Bea …`): a job keeps what its command uses. */
  mentions: Array<Pick<Mention, 'key' | 'openId'> & { name?: string | undefined }>;
};

/** The commands whose text keeps the people mentioned in it, by name. */
const NAMES_IN_TEXT = new Set<string>(Object.values(COMMAND_NAMES.todo));

export function commandMessage(message: MessageEvent): CommandMessage {
  // Only a mention after the first words can be in a command's text (most commands mention the bot alone, first).
  const { text } = message;
  const lead = text === undefined ? [] : leadingMentionKeys(text);
  const parsed = text !== undefined && message.mentions.some((m) => m.key !== '@_all' && !lead.includes(m.key)) ? parseMessage(text) : undefined;
  const keepsNames = parsed?.kind === 'command' && NAMES_IN_TEXT.has(parsed.name);
  return {
    eventId: message.eventId,
    messageId: message.messageId,
    chatId: message.chatId,
    chatType: message.chatType,
    senderId: message.senderId,
    parentId: message.parentId,
    threadId: message.threadId,
    text: message.text,
    sentAt: message.sentAt,
    mentions: message.mentions.map(({ key, openId, name }) => (keepsNames ? { key, openId, name } : { key, openId })),
  };
}

export interface CommandContext {
  services: Services;
  message: CommandMessage;
  args: string;
  /** `args` with the people mentioned in them by name (`ask @Bea about it`), for a command that keeps them. */
  argsWithNames: string;
  /** The language to answer in: the message's own, else the chat's setting, else `BOT_LANGUAGE`. */
  lang: Language;
  /** Commits the command's changes as the job handling the message (see `JobContext.commit`). */
  commit: JobContext['commit'];
  /** Tells the sender something, privately where possible, in `lang`. */
  reply(key: MessageKey, options?: { tone?: Notice['tone']; values?: MessageValues }): Promise<void>;
}

export type CommandMiddleware = (ctx: CommandContext, next: () => Promise<void>) => Promise<void>;

/** What `/help` says of a command besides its names. */
export type CommandInfo = Omit<CommandHelp, 'names'>;

interface Registered extends CommandHelp {
  run: (ctx: CommandContext) => Promise<void>;
}

export class CommandRouter {
  /** By every name, in every language. */
  private readonly commands = new Map<string, Registered>();
  private fallback: ((ctx: CommandContext) => Promise<void>) | undefined;

  command(id: CommandId, info: CommandInfo, ...middleware: CommandMiddleware[]): this {
    const names = COMMAND_NAMES[id];
    const registered: Registered = { names, ...info, run: compose(middleware) as (ctx: CommandContext) => Promise<void> };
    for (const name of Object.values(names)) this.commands.set(name, registered);
    return this;
  }

  /** What runs for a bare mention of the bot. */
  onMention(...middleware: CommandMiddleware[]): this {
    this.fallback = compose(middleware) as (ctx: CommandContext) => Promise<void>;
    return this;
  }

  /**
   * Whether a message asks anything of the bot: a command, anything in a direct chat, or a mention of the bot. The
   * rest (group chatter the bot sees with the read-all-messages scope) is acknowledged and never stored. Undefined:
   * only the bot's own open_id, not yet known, can tell whether a mention is of the bot.
   */
  static concernsBot(message: MessageEvent, botOpenId: string | undefined): boolean | undefined {
    const { text } = message;
    if (text === undefined || !message.senderIsUser) return false;
    if (message.chatType === 'p2p') return true;
    const parsed = mayBeCommand(text) ? parseMessage(text) : undefined;
    const command = parsed?.kind === 'command' ? parsed : undefined;
    // A mention of a person may be one of the bot; `@_all` names nobody.
    const people = message.mentions.filter((m) => m.openId !== undefined);
    // A command of another bot's (`/shrug`, which the group's read-all scope shows too) is not answered.
    if (people.length === 0) return command !== undefined && isKnownCommand(command.name);
    if (botOpenId === undefined) return undefined;
    if (people.some((m) => m.openId === botOpenId)) return true;
    // Not mentioned: a command of the bot's, unless the message is addressed to someone else (`@OtherBot /help`).
    const lead = leadingMentionKeys(text);
    return command !== undefined && isKnownCommand(command.name) && !people.some((m) => lead.includes(m.key));
  }

  /** Every command once, in the order registered. */
  list(): CommandHelp[] {
    return [...new Set(this.commands.values())].map(({ names, args, description }) => ({ names, ...(args && { args }), description }));
  }

  /** Runs a stored message job. Throttling happened before it was stored (`Bot.receive`). */
  async route(services: Services, message: CommandMessage, job: Pick<JobContext, 'commit'>): Promise<void> {
    if (message.text === undefined) return;
    const parsed = parseMessage(message.text);
    const started = performance.now();
    let outcome = 'ignored';
    try {
      outcome = await this.dispatch(services, message, parsed, job);
    } catch (error) {
      outcome = 'failed';
      throw error;
    } finally {
      // Who asked what and how it went, never the words. Only commands the bot knows become a metric label, by their
      // English name whatever the language they were typed in.
      if (outcome !== 'ignored') {
        const command = parsed.kind !== 'command' ? parsed.kind : (this.commands.get(parsed.name)?.names.en_us ?? 'unknown');
        services.metrics.command(command, outcome);
        services.logger.info(
          { chatId: message.chatId, userId: message.senderId, command, outcome, ms: Math.round(performance.now() - started) },
          'command handled',
        );
      }
    }
  }

  /** Runs the command; resolves to its outcome: ok, refused (told why), unknown or ignored. */
  private async dispatch(services: Services, message: CommandMessage, parsed: ParsedMessage, job: Pick<JobContext, 'commit'>): Promise<string> {
    if (parsed.kind !== 'command' && !(await this.addressedToBot(services, message))) return 'ignored';

    let replies = 0;
    let refused = false;
    const lang = languageOfMessage(parsed) ?? (await chatLanguage(services, message.chatId));
    const ctx: CommandContext = {
      services,
      message,
      args: parsed.kind === 'command' ? parsed.args : '',
      argsWithNames: parsed.kind === 'command' ? await argsWithNames(services, message, parsed.args) : '',
      lang,
      commit: job.commit,
      reply: (key, options = {}) => {
        const tone = options.tone ?? 'info';
        if (tone === 'warning' || tone === 'error') refused = true;
        return job.commit({
          jobs: [
            noticeJob(services, `${message.eventId}:${replies++}`, {
              chatId: message.chatId,
              userId: message.senderId,
              text: t(lang, key, options.values),
              tone,
              lang,
              replyTo: message.messageId,
              chatType: message.chatType,
            }),
          ],
        });
      },
    };

    if (parsed.kind === 'command') {
      const command = this.commands.get(parsed.name);
      if (!command) {
        await ctx.reply('reply.unknownCommand', { tone: 'warning', values: { name: parsed.name } });
        return 'unknown';
      }
      await command.run(ctx);
    } else if (parsed.kind === 'mention-only' && this.fallback) {
      await this.fallback(ctx);
    } else {
      await ctx.reply('reply.notACommand');
    }
    return refused ? 'refused' : 'ok';
  }

  /** In a direct chat every message is for the bot; in a group only those that mention it. */
  private async addressedToBot(services: Services, message: CommandMessage): Promise<boolean> {
    if (message.chatType === 'p2p') return true;
    if (message.mentions.length === 0) return false;
    const botId = await services.botOpenId();
    return message.mentions.some((m) => m.openId === botId);
  }
}

/** A command's arguments with the people it mentions by name: not the bot, nor everyone (`@_all` has no open_id). */
async function argsWithNames(services: Services, message: CommandMessage, args: string): Promise<string> {
  // Feishu may name nobody (no name it may show): such a mention is left out, as any other is.
  const people = message.mentions.filter((m) => m.openId !== undefined && m.name !== undefined && m.name !== '');
  if (people.length === 0 || message.text === undefined) return args;
  const botId = await services.botOpenId();
  const names = new Map(people.filter((m) => m.openId !== botId).map((m) => [m.key, m.name as string]));
  const named = parseMessage(message.text, names);
  return named.kind === 'command' ? named.args : args;
}
