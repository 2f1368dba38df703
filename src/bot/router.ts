import compose from 'koa-compose';
import type { MessageEvent } from '../feishu/events';
import { parseMessage } from './commands';
import { type Notice, tell } from './notices';
import type { Services } from './services';

/**
 * Commands composed as middleware, as grammY's Composer and Koa do: each command is a list of guards and a
 * handler, and a guard that refuses simply does not call `next`. The list of commands is also the help text.
 */

export interface CommandContext {
  services: Services;
  message: MessageEvent;
  args: string;
  /** Tells the sender something, privately where possible. */
  reply(text: string, tone?: Notice['tone']): void;
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
   * Whether a message could ask anything of the bot: a command, a mention, or anything in a direct chat. The rest
   * (group chatter the bot sees with the read-all-messages scope) is acknowledged and dropped without being stored.
   */
  static mayConcernBot(message: MessageEvent): boolean {
    if (message.text === undefined || !message.senderIsUser) return false;
    if (message.chatType === 'p2p' || message.mentions.length > 0) return true;
    return parseMessage(message.text).kind === 'command';
  }

  list(): CommandInfo[] {
    return [...this.commands.values()].map(({ usage, description }) => ({ usage, description }));
  }

  async route(services: Services, message: MessageEvent): Promise<void> {
    if (message.text === undefined || !message.senderIsUser) return;
    const parsed = parseMessage(message.text);
    const started = performance.now();
    let outcome = 'ignored';
    const command = parsed.kind === 'command' ? parsed.name : parsed.kind;
    try {
      outcome = await this.dispatch(services, message, parsed);
    } catch (error) {
      outcome = 'failed';
      throw error;
    } finally {
      // Who asked what and how it went, never the words.
      if (outcome !== 'ignored') {
        const known = parsed.kind !== 'command' || this.commands.has(parsed.name) ? command : 'unknown';
        services.metrics.command(known, outcome);
        services.logger.info(
          { chatId: message.chatId, userId: message.senderId, command: known, outcome, ms: Math.round(performance.now() - started) },
          'command handled',
        );
      }
    }
  }

  /** Runs the command; resolves to its outcome: ok, refused (told why), unknown, throttled or ignored. */
  private async dispatch(services: Services, message: MessageEvent, parsed: ReturnType<typeof parseMessage>): Promise<string> {
    let replies = 0;
    let refused = false;
    const ctx: CommandContext = {
      services,
      message,
      args: parsed.kind === 'command' ? parsed.args : '',
      reply: (text, tone = 'info') => {
        if (tone === 'warning' || tone === 'error') refused = true;
        tell(services, `${message.eventId}:${replies++}`, {
          chatId: message.chatId,
          userId: message.senderId,
          text,
          tone,
          replyTo: message.messageId,
          chatType: message.chatType,
        });
      },
    };

    if (parsed.kind !== 'command' && !(await this.addressedToBot(services, message))) return 'ignored';
    const verdict = await services.throttle.check(message.chatId, message.senderId);
    if (verdict === 'warn') ctx.reply('You are sending me commands faster than I can help; please wait a few seconds.', 'warning');
    if (verdict !== 'allow') return 'throttled';

    if (parsed.kind === 'command') {
      const command = this.commands.get(parsed.name);
      if (!command) {
        ctx.reply(`I don't know /${parsed.name}. Send /help to see what I can do.`, 'warning');
        return 'unknown';
      }
      await command.run(ctx);
    } else if (parsed.kind === 'mention-only' && this.fallback) {
      await this.fallback(ctx);
    } else {
      ctx.reply('I only understand commands. Send /help to see them.', 'info');
    }
    return refused ? 'refused' : 'ok';
  }

  /** In a direct chat every message is for the bot; in a group only those that mention it. */
  private async addressedToBot(services: Services, message: MessageEvent): Promise<boolean> {
    if (message.chatType === 'p2p') return true;
    if (message.mentions.length === 0) return false;
    const botId = await services.botOpenId();
    return message.mentions.some((m) => m.openId === botId);
  }
}
