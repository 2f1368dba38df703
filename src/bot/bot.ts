import { close } from '../domain/todo-form';
import { isFeishuError } from '../feishu/errors';
import type { CardActionAnswer, CardActionEvent, FeishuEvent, MessageEvent } from '../feishu/events';
import type { JobHandler } from '../jobs/outbox';
import type { ScheduledTask } from '../jobs/scheduler';
import { handleCardAction } from './card-actions';
import { showHelp } from './commands/help';
import { recallTodo } from './commands/recall';
import { openTodoForm } from './commands/todo';
import { listTodos } from './commands/todos';
import { formDeleteJob, formJobHandlers } from './form-jobs';
import { adminsOnly, groupsOnly } from './guards';
import { noticeHandler, noticeJob } from './notices';
import { reminderJobHandler, reminderTask } from './reminders';
import { CommandRouter } from './router';
import { todoJobHandlers } from './todo-jobs';
import type { Services } from './services';

/** A card callback is answered by this deadline even if the store is slow; Feishu gives up at 3 s. */
export const CARD_ANSWER_DEADLINE_MS = 2_500;
/** Expired forms closed per store read. */
const EXPIRY_BATCH = 100;

/**
 * What the bot does with a verified push. A message is recorded with the job that will handle it and
 * acknowledged at once; a card click is answered from stored state. Outbound work all happens in jobs.
 */
export class Bot {
  readonly router: CommandRouter;

  constructor(private readonly services: Services) {
    const help = showHelp(() => this.router.list());
    this.router = new CommandRouter()
      .command('todo', { usage: '/todo [text]', description: 'Open a private form to create a to-do for this group (group admins).' }, groupsOnly, adminsOnly, openTodoForm)
      .command('todos', { usage: '/todos [mine]', description: 'List the open to-dos of this chat with their next reminder; "mine": those assigned to you.' }, groupsOnly, listTodos)
      .command(
        'recall',
        { usage: '/recall', description: 'Withdraw a to-do card: reply /recall to it, or send /recall for your latest one (creator or group admins).' },
        groupsOnly,
        recallTodo,
      )
      .command('help', { usage: '/help', description: 'Show this list of commands.' }, help)
      .onMention(help);
  }

  async receive(event: FeishuEvent): Promise<CardActionAnswer> {
    if (event.type === 'other') {
      // Nothing is done for it, so nothing needs remembering either.
      this.services.logger.debug({ eventId: event.eventId, eventType: event.eventType }, 'event type not handled');
      return {};
    }
    if (event.type === 'card_action') {
      return withDeadline(this.answerCardAction(event), CARD_ANSWER_DEADLINE_MS, { toast: { type: 'info', content: 'Working on it…' } });
    }
    if (!CommandRouter.mayConcernBot(event)) return {};
    return this.accept(event);
  }

  jobHandlers(): Record<string, JobHandler> {
    return {
      message: {
        run: (ctx) => this.router.route(this.services, ctx.job.payload as MessageEvent, ctx),
        // The boundary around every command: whatever went wrong, the sender hears about it in a sentence.
        giveUp: async ({ job, commit }, error) => {
          const message = job.payload as MessageEvent;
          await commit({
            jobs: [
              noticeJob(this.services, `${message.eventId}:failed`, {
                chatId: message.chatId,
                userId: message.senderId,
                text: isFeishuError(error) ? error.say : 'Something went wrong on my side while handling that; please try again.',
                tone: 'error',
                replyTo: message.messageId,
                chatType: message.chatType,
              }),
            ],
          });
        },
      },
      notice: noticeHandler(this.services),
      ...formJobHandlers(this.services),
      ...todoJobHandlers(this.services),
      'todo.remind': reminderJobHandler(this.services),
    };
  }

  scheduledTasks(): ScheduledTask[] {
    const { store, now } = this.services;
    return [
      reminderTask(this.services),
      {
        name: 'expire-forms',
        nextDue: () => store.nextDue(),
        run: async (at) => {
          for (;;) {
            const expired = await store.expiredForms(at, EXPIRY_BATCH);
            let closed = 0;
            for (const form of expired) {
              // Only from the state it was read in: a Submit that won meanwhile keeps its form.
              const result = await store.commit({ now: now(), forms: [close(form, 'expired', at)], jobs: [formDeleteJob(this.services, form)] });
              if (result.ok) closed++;
            }
            if (expired.length < EXPIRY_BATCH || closed === 0) return;
          }
        },
      },
    ];
  }

  /** A click never gets an HTTP error: Feishu would show the person a bare error code instead of a sentence. */
  private async answerCardAction(event: CardActionEvent): Promise<CardActionAnswer> {
    try {
      return await handleCardAction(this.services, event);
    } catch (error) {
      this.services.logger.error({ eventId: event.eventId, err: (error as Error).message }, 'card action failed');
      return { toast: { type: 'error', content: 'Something went wrong on my side; please try again.' } };
    }
  }

  /** A message is stored as a job, in the same commit as its event id, and acknowledged: no call to Feishu first. */
  private async accept(message: MessageEvent): Promise<CardActionAnswer> {
    const { store, now } = this.services;
    const result = await store.commit({
      now: now(),
      eventId: message.eventId,
      jobs: [
        {
          id: `message:${message.eventId}`,
          kind: 'message',
          lane: `chat:${message.chatId}:${message.senderId}`,
          chatId: message.chatId,
          payload: message,
          runAt: now(),
          createdAt: now(),
        },
      ],
    });
    if (!result.ok) this.services.logger.info({ eventId: message.eventId }, 'duplicate delivery ignored');
    return {};
  }
}

function withDeadline<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
