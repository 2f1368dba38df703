import compose from 'koa-compose';
import type { Mention, MessageEvent } from '../feishu/events';
import type { JobContext } from '../jobs/outbox';
import { type ParsedMessage, parseMessage } from './commands';
import { type Notice, noticeJob } from './notices';
import type { Services } from './services';

/**
 * Commands composed as middleware, as grammY's Composer and Koa do: each command is a list of guards and a
 * handler, and a guard that refuses simply does not call `next`. The list of commands is also the help text.
 */

/**
 * What a command uses of a message, and all that is stored of one: no sender type, no mention names. A MessageEvent
 * is one, so it can be routed directly too.
 */
export type CommandMessage = Pick<MessageEvent, 'eventId' | 'messageId' | 'chatId' | 'chatType' | 'senderId' | 'parentId' | 'text'> & {
  mentions: Array<Pick<Mention, 'key' | 'openId'>>;
};

export function commandMessage(message: MessageEvent): CommandMessage {
  return {
    eventId: message.eventId,
    messageId: message.messageId,
    chatId: message.chatId,
    chatType: message.chatType,
    senderId: message.senderId,
    parentId: message.parentId,
    text: message.text,
    mentions: message.mentions.map(({ key, openId }) => ({ key, openId })),
  };
}

export interface CommandContext {
  services: Services;
  message: CommandMessage;
  args: string;
  /** Commits the command's changes as the job handling the message (see `JobContext.commit`). */
  commit: JobContext['commit'];
  /** Tells the sender something, privately where possible. */
  reply(text: string, tone?: Notice['tone']): Promise<void>;
}

export type CommandMiddleware = (ctx: CommandContext, next: () => Promise<void>) => Promise<void>;

export interface CommandInfo {
  usage: string;
  description: string;
}

interface Registered extends CommandInfo {
  run: (ctx: CommandContext) => Promise<void>;
}

export class CommandRouter {
  private readonly commands = new Map<string, Registered>();
  private fallback: ((ctx: CommandContext) => Promise<void>) | undefined;

  command(name: string, info: CommandInfo, ...middleware: CommandMiddleware[]): this {
    this.commands.set(name, { ...info, run: compose(middleware) as (ctx: CommandContext) => Promise<void> });
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
    if (message.text === undefined || !message.senderIsUser) return false;
    if (message.chatType === 'p2p' || parseMessage(message.text).kind === 'command') return true;
    // A mention of a person may be one of the bot; `@_all` names nobody.
    const people = message.mentions.filter((m) => m.openId !== undefined);
    if (people.length === 0) return false;
    if (botOpenId === undefined) return undefined;
    return people.some((m) => m.openId === botOpenId);
  }

  list(): CommandInfo[] {
    return [...this.commands.values()].map(({ usage, description }) => ({ usage, description }));
  }

  /** Runs a stored message job. Throttling happened before it was stored (`Bot.receive`). */
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
      // Who asked what and how it went, never the words. Only commands the bot knows become a metric label.
      if (outcome !== 'ignored') {
        const command = parsed.kind !== 'command' ? parsed.kind : this.commands.has(parsed.name) ? parsed.name : 'unknown';
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
    let replies = 0;
    let refused = false;
    const ctx: CommandContext = {
      services,
      message,
      args: parsed.kind === 'command' ? parsed.args : '',
      commit: job.commit,
      reply: (text, tone = 'info') => {
        if (tone === 'warning' || tone === 'error') refused = true;
        return job.commit({
          jobs: [
            noticeJob(services, `${message.eventId}:${replies++}`, {
              chatId: message.chatId,
              userId: message.senderId,
              text,
              tone,
              replyTo: message.messageId,
              chatType: message.chatType,
            }),
          ],
        });
      },
    };

    if (parsed.kind !== 'command' && !(await this.addressedToBot(services, message))) return 'ignored';
    if (parsed.kind === 'command') {
      const command = this.commands.get(parsed.name);
      if (!command) {
        await ctx.reply(`I don't know /${parsed.name}. Send /help to see what I can do.`, 'warning');
        return 'unknown';
      }
      await command.run(ctx);
    } else if (parsed.kind === 'mention-only' && this.fallback) {
      await this.fallback(ctx);
    } else {
      await ctx.reply('I only understand commands. Send /help to see them.', 'info');
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
