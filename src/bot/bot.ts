import { CardActionValue } from '../../cards/actions';
import { isFeishuError } from '../feishu/errors';
import type { CardActionAnswer, CardActionEvent, FeishuEvent, MessageEvent } from '../feishu/events';
import type { JobHandler } from '../jobs/outbox';
import type { ScheduledTask } from '../jobs/scheduler';
import { handleCardAction } from './card-actions';
import { showHelp } from './commands/help';
import { recallTodo } from './commands/recall';
import { openTodoForm } from './commands/todo';
import { listTodos } from './commands/todos';
import { enqueueFormDelete, formJobHandlers } from './form-jobs';
import { adminsOnly, groupsOnly } from './guards';
import { noticeHandler, tell } from './notices';
import { reminderJobHandler, reminderTask } from './reminders';
import { CommandRouter } from './router';
import { todoJobHandlers } from './todo-jobs';
import type { Services } from './services';
import { close } from '../domain/todo-form';

/** A card callback is answered by this deadline even if the store is slow; Feishu gives up at 3 s. */
export const CARD_ANSWER_DEADLINE_MS = 2_500;

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
    const { store, now } = this.services;
    if (event.type === 'message' && !CommandRouter.mayConcernBot(event)) return {};
    if (event.type === 'other') {
      // Nothing is done for it, so nothing needs remembering either.
      this.services.logger.debug({ eventId: event.eventId, eventType: event.eventType }, 'event type not handled');
      return {};
    }
    if (!store.firstSighting(event.eventId, now())) {
      this.services.logger.info({ eventId: event.eventId }, 'duplicate delivery ignored');
      // The first delivery may still be on its way to disk; answering the repeat before it is would let Feishu stop
      // retrying an event a crash could still lose.
      await store.flush();
      return {};
    }
    switch (event.type) {
      case 'message':
        return this.accept(event);
      case 'card_action':
        return withDeadline(this.answerCardAction(event), CARD_ANSWER_DEADLINE_MS, { toast: { type: 'info', content: 'Working on it…' } });
    }
  }

  jobHandlers(): Record<string, JobHandler> {
    return {
      message: {
        run: ({ job }) => this.router.route(this.services, job.payload as MessageEvent),
        // The boundary around every command: whatever went wrong, the sender hears about it in a sentence.
        giveUp: (job, error) => {
          const message = job.payload as MessageEvent;
          tell(this.services, `${message.eventId}:failed`, {
            chatId: message.chatId,
            userId: message.senderId,
            text: isFeishuError(error) ? error.say : 'Something went wrong on my side while handling that; please try again.',
            tone: 'error',
            replyTo: message.messageId,
            chatType: message.chatType,
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
    const { store } = this.services;
    return [
      reminderTask(this.services),
      {
        name: 'expire-forms',
        nextDue: () => store.nextFormExpiry(),
        run: async (now) => {
          for (const form of store.expiredForms(now)) {
            store.putForm(close(form, 'expired', now));
            enqueueFormDelete(this.services, form);
          }
          await store.flush();
          this.services.outbox.kick();
        },
      },
    ];
  }

  /** A click never gets an HTTP error: Feishu would show the person a bare error code instead of a sentence. */
  private async answerCardAction(event: CardActionEvent): Promise<CardActionAnswer> {
    const started = performance.now();
    let answer: CardActionAnswer;
    try {
      answer = await handleCardAction(this.services, event);
    } catch (error) {
      this.services.logger.error({ eventId: event.eventId, err: (error as Error).message }, 'card action failed');
      answer = { toast: { type: 'error', content: 'Something went wrong on my side; please try again.' } };
    }
    // Who did what and how it went, never what the card held. The outcome is the toast's tone.
    // Only actions the bot knows become a label: a metric's labels must stay a small set.
    const parsed = CardActionValue.safeParse(event.value);
    const action = parsed.success ? parsed.data.action : 'unknown';
    const outcome = answer.toast?.type ?? 'none';
    this.services.metrics.cardAction(action, outcome);
    this.services.logger.info(
      { chatId: event.chatId, userId: event.operatorId, action, outcome, ms: Math.round(performance.now() - started) },
      'card action handled',
    );
    return answer;
  }

  private async accept(message: MessageEvent): Promise<CardActionAnswer> {
    const { store, now, outbox } = this.services;
    store.enqueue({
      id: `message:${message.eventId}`,
      kind: 'message',
      lane: `chat:${message.chatId}:${message.senderId}`,
      chatId: message.chatId,
      payload: message,
      runAt: now(),
      createdAt: now(),
    });
    await store.flush();
    outbox.kick();
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
