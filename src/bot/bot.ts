import type { CardActionAnswer, FeishuEvent, MessageEvent } from '../feishu/events';
import type { JobHandler } from '../jobs/outbox';
import type { ScheduledTask } from '../jobs/scheduler';
import { handleCardAction } from './card-actions';
import { showHelp } from './commands/help';
import { recallTodo } from './commands/recall';
import { openTodoForm } from './commands/todo';
import { listTodos } from './commands/todos';
import { enqueueFormDelete, formJobHandlers } from './form-jobs';
import { adminsOnly, groupsOnly } from './guards';
import { noticeHandler } from './notices';
import { reminderJobHandler, reminderTask } from './reminders';
import { CommandRouter } from './router';
import { todoJobHandlers } from './todo-jobs';
import type { Services } from './services';
import { close } from './todo-form';

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
      .command(
        'recall',
        { usage: '/recall', description: 'Withdraw a to-do card: reply /recall to it, or send /recall for your latest one (creator or group admins).' },
        groupsOnly,
        recallTodo,
      )
      .command('todos', { usage: '/todos [mine]', description: 'List the open to-dos of this chat with their next reminder; "mine": those assigned to you.' }, groupsOnly, listTodos)
      .command('help', { usage: '/help', description: 'Show this list of commands.' }, help)
      .onMention(help);
  }

  async receive(event: FeishuEvent): Promise<CardActionAnswer> {
    const { store, now } = this.services;
    if (!store.firstSighting(event.eventId, now())) {
      this.services.logger.info({ eventId: event.eventId }, 'duplicate delivery ignored');
      await store.flush();
      return {};
    }
    switch (event.type) {
      case 'message':
        return this.accept(event);
      case 'card_action':
        return withDeadline(handleCardAction(this.services, event), CARD_ANSWER_DEADLINE_MS, {
          toast: { type: 'info', content: 'Working on it…' },
        });
      case 'other':
        this.services.logger.debug({ eventId: event.eventId, eventType: event.eventType }, 'event type not handled');
        await store.flush();
        return {};
    }
  }

  jobHandlers(): Record<string, JobHandler> {
    return {
      message: { run: ({ job }) => this.router.route(this.services, job.payload as MessageEvent) },
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
            enqueueFormDelete(this.services, form.id);
          }
          await store.flush();
          this.services.outbox.kick();
        },
      },
    ];
  }

  private async accept(message: MessageEvent): Promise<CardActionAnswer> {
    const { store, now, outbox } = this.services;
    store.enqueue({
      id: `message:${message.eventId}`,
      kind: 'message',
      lane: `chat:${message.chatId}:${message.senderId}`,
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
