import pTimeout from 'p-timeout';
import { MEMBER_CHANGES_LIMIT, withMemberChanges } from '../domain/chat-members';
import { type ChatSettings, changedChat } from '../domain/model';
import { close } from '../domain/todo-form';
import type { CardActionAnswer, CardActionEvent, FeishuEvent, MembersEvent, MembershipEvent, MessageEvent, RecalledEvent } from '../feishu/events';
import { t } from '../i18n';
import { toast } from '../i18n/feishu';
import type { JobRegistry } from '../jobs/registry';
import type { ScheduledTask } from '../jobs/scheduler';
import type { Commit } from '../store/store';
import { type HandledClick, handleCardAction } from './card-actions';
import { showHelp } from './commands/help';
import { chooseLanguage } from './commands/lang';
import { recallTodo } from './commands/recall';
import { openSettings } from './commands/settings';
import { openTodoForm } from './commands/todo';
import { listTodos } from './commands/todos';
import { digestTask } from './digest';
import { adminsOnly, chatAdminsOnly, groupsOnly } from './guards';
import { formDeleteJob } from './jobs/form';
import { messageJob } from './jobs/message';
import { noticeJob } from './jobs/notice';
import { botJobRegistry } from './jobs/registry';
import { messageLanguage } from './language';
import { nudgeTask } from './nudges';
import { reminderTask } from './reminders';
import { CommandRouter } from './router';
import type { Services } from './services';
import { receiveTaskEvent, taskSweepTask } from './task-events';

/** A card callback is answered by this deadline from its arrival even if the store is slow; Feishu gives up at 3 s. */
export const CARD_ANSWER_DEADLINE_MS = 2_500;
/** The most a message waits for the bot's own open_id to be learnt from Feishu (see `admitOnceKnown`). */
const OPEN_ID_WAIT_MS = 2_000;
/** The most a click waits for its throttle's verdict, a part of `CARD_ANSWER_DEADLINE_MS`. */
const CLICK_THROTTLE_WAIT_MS = 300;
/** Expired forms closed per store read. */
const EXPIRY_BATCH = 100;

/**
 * What the bot does with a verified push. A message is recorded with the job that will handle it and
 * acknowledged at once; a card click is answered from stored state. Outbound work all happens in jobs.
 */
export class Bot {
  readonly router: CommandRouter;
  /**
   * Work that goes on after its push was answered: refusals decided after a click was answered "Working on it…".
   */
  private readonly afterAnswers = new Set<Promise<void>>();

  constructor(private readonly services: Services) {
    const help = showHelp(() => this.router.list());
    this.router = new CommandRouter()
      .command('todo', { args: 'command.todo.args', description: 'command.todo.description' }, groupsOnly, adminsOnly, openTodoForm)
      .command('todos', { args: 'command.todos.args', description: 'command.todos.description' }, groupsOnly, listTodos)
      .command('recall', { description: 'command.recall.description' }, groupsOnly, recallTodo)
      .command('help', { description: 'command.help.description' }, help)
      .command('lang', { args: 'command.lang.args', description: 'command.lang.description' }, groupsOnly, chatAdminsOnly('lang.adminsOnly'), chooseLanguage)
      .command('settings', { description: 'command.settings.description' }, groupsOnly, chatAdminsOnly('settings.adminsOnly'), openSettings)
      .onMention(help);
  }

  /**
   * What is not for the bot, and what a throttle drops, is answered without being stored: nothing of it reaches the
   * disk. The rest is recorded with its event's id (a message's own id) first, so a repeated delivery is recognised. What needs nothing
   * stored or asked is answered at once, not through a promise (see `Receive`).
   */
  receive(event: FeishuEvent): CardActionAnswer | Promise<CardActionAnswer> {
    switch (event.type) {
      case 'other':
        // Nothing is done for it, so nothing needs remembering either.
        this.services.logger.debug({ eventId: event.eventId, eventType: event.eventType }, 'event type not handled');
        return {};
      case 'message':
        return this.receiveMessage(event);
      case 'recalled':
        return this.receiveRecall(event);
      case 'card_action':
        return this.receiveClick(event);
      case 'task':
        return receiveTaskEvent(this.services, event).then(() => ({}));
      case 'membership':
        return this.receiveMembership(event);
      case 'members':
        return this.receiveMembers(event);
    }
  }

  /** Resolves once no work goes on after an answer (before stopping, and for tests). */
  async settled(): Promise<void> {
    while (this.afterAnswers.size > 0) await Promise.all(this.afterAnswers);
  }

  /** Keeps `work` among what goes on after an answer until it ends; it never rejects (its failure is logged). */
  private track(work: Promise<void>, what: string): void {
    const tracked: Promise<void> = work
      .catch((error: unknown) => this.services.logger.warn({ err: error }, what))
      .finally(() => this.afterAnswers.delete(tracked));
    this.afterAnswers.add(tracked);
  }

  /** The kinds of job the bot's outbox runs, with `services` (the app gives them its background store). */
  jobRegistry(services: Services = this.services): JobRegistry {
    return botJobRegistry(services, this.router);
  }

  /** The bot's scheduled tasks, run with `services` (the app gives them its background store). */
  scheduledTasks(services: Services = this.services): ScheduledTask[] {
    const { store, now } = services;
    return [
      reminderTask(services),
      digestTask(services),
      taskSweepTask(services),
      nudgeTask(services),
      {
        name: 'expire-forms',
        nextDue: () => store.nextDue(),
        run: async (at) => {
          for (;;) {
            const expired = await store.expiredForms(at, EXPIRY_BATCH);
            let closed = 0;
            for (const form of expired) {
              // Only from the state it was read in: a Submit that won meanwhile keeps its form.
              const result = await store.commit({ now: now(), forms: [close(form, 'expired', at)], jobs: [formDeleteJob(services, form)] });
              if (result.ok) closed++;
            }
            if (expired.length < EXPIRY_BATCH || closed === 0) return;
          }
        },
      },
    ];
  }

  /** A click never gets an HTTP error: Feishu would show the person a bare error code instead of a sentence. */
  private async answerCardAction(event: CardActionEvent): Promise<HandledClick> {
    const started = performance.now();
    let handled: HandledClick;
    try {
      handled = await handleCardAction(this.services, event);
    } catch (error) {
      this.services.logger.error({ eventId: event.eventId, err: error }, 'card action failed');
      const lang = this.services.config.botLanguage;
      handled = { action: 'unknown', answer: { toast: toast('error', 'toast.failed', lang) }, lang };
    }
    // Who did what and how it went, never what the card held. The outcome is the toast's tone. Only actions the bot
    // knows become a label: a metric's labels must stay a small set.
    const { action, answer } = handled;
    const outcome = answer.toast?.type ?? 'none';
    this.services.metrics.cardAction(action, outcome);
    this.services.logger.info(
      { chatId: event.chatId, userId: event.operatorId, action, outcome, ms: Math.round(performance.now() - started) },
      'card action handled',
    );
    return handled;
  }

  private receiveMessage(message: MessageEvent): CardActionAnswer | Promise<CardActionAnswer> {
    const concerns = CommandRouter.concernsBot(message, this.services.knownBotOpenId());
    if (concerns === undefined) {
      // A mention, and the bot does not know yet whether it is the one mentioned (only until its own open_id is first
      // known): it asks Feishu before answering, keeping nothing meanwhile. If Feishu cannot say, the push fails and
      // Feishu delivers it again: answered first, a command lost with the look-up was gone for good.
      return this.admitOnceKnown(message).then(() => ({}));
    }
    if (!concerns) return {};
    return this.admit(message).then(() => ({}));
  }

  /**
   * Waits at most OPEN_ID_WAIT_MS, inside Feishu's 3 s for an answer: a look-up Feishu is slow to answer goes on and
   * fills the bot's identity for the next delivery, rather than hold this push (and a stop waiting on it).
   */
  private async admitOnceKnown(message: MessageEvent): Promise<void> {
    const botOpenId = await pTimeout(this.services.botOpenId(), { milliseconds: OPEN_ID_WAIT_MS, message: 'the bot’s own open_id is not known yet' });
    if (CommandRouter.concernsBot(message, botOpenId)) await this.admit(message);
  }

  /**
   * Stored as a job in the same commit as its message's id, and spending a point of the sender's command budget in
   * that chat (one step, refused whole for a repeated delivery, which spends nothing): the throttle asks Feishu nothing.
   * The id remembered is the message's, not the event's: Feishu may push one message again under a new event id, and
   * its docs say to tell repeats apart by `message_id` (a repeated bare `/recall` would withdraw the next card). A
   * command over the budget is not stored: the first one past it in its window becomes the notice saying so, which
   * never claims the message's id, so it cannot take the place of another delivery of the same message that was
   * admitted.
   */
  private async admit(message: MessageEvent): Promise<void> {
    const { store, now, config } = this.services;
    const result = await store.commit({
      now: now(),
      eventId: message.messageId,
      jobs: [messageJob(this.services, message)],
      budget: { key: `${message.chatId}:${message.senderId}`, limit: config.userCommandLimit, windowMs: config.userCommandWindowSeconds * 1000 },
    });
    if (result.ok) return;
    if (result.reason === 'throttled') {
      // Kept to one by its job id, which names the event.
      if (result.first) await store.commit({ now: now(), jobs: [await this.throttledNotice(message)] });
      return;
    }
    this.services.logger.info({ eventId: message.eventId, messageId: message.messageId }, 'duplicate delivery ignored');
  }

  /** The one notice past a person's command budget, in the language of the command that crossed it. */
  private async throttledNotice(message: MessageEvent) {
    const lang = await messageLanguage(this.services, message);
    return noticeJob(this.services, `${message.eventId}:throttled`, {
      chatId: message.chatId,
      userId: message.senderId,
      text: t(lang, 'reply.tooManyCommands'),
      tone: 'warning',
      lang,
      replyTo: message.messageId,
      chatType: message.chatType,
    });
  }

  /**
   * A `/todo` recalled while its form is open closes the form (and its card). Feishu tells the bot of every message
   * recalled in its chats: those that opened no open form change nothing and are not stored.
   */
  private async receiveRecall(event: RecalledEvent): Promise<CardActionAnswer> {
    const { store, now, logger } = this.services;
    // The form's send job writing it meanwhile (its card's id) makes it read again: Feishu does not send this event twice.
    await this.commitFromLatest(event.eventId, `the form of recalled message ${event.messageId}`, async () => {
      const form = await store.openFormOfCommand(event.chatId, event.messageId);
      if (!form) return undefined;
      const closed = close(form, 'cancelled', now());
      return {
        change: { forms: [closed], jobs: [formDeleteJob(this.services, closed)] },
        done: () => logger.info({ chatId: event.chatId, formId: form.id }, 'form closed: its /todo was recalled'),
      };
    });
    return {};
  }

  /**
   * The bot removed from a chat (or the chat disbanded) marks the chat's record, and nothing is posted there any more:
   * every digest, nudge and reminder would fail, each day, for ever. Added again, the mark is cleared.
   */
  private async receiveMembership(event: MembershipEvent): Promise<CardActionAnswer> {
    const { store, now, logger } = this.services;
    // A settings Save or a digest claim meanwhile makes it read again.
    await this.commitFromLatest(event.eventId, `the record of chat ${event.chatId}`, async () => {
      const record = await store.chat(event.chatId);
      // Feishu redelivers for hours: a removal made before the latest addition it told of changes nothing.
      if (predatesMembership(event.at, record)) return undefined;
      if ((record?.botLeftAt === undefined) === event.botPresent) return undefined;
      const updated = changedChat(record, event.chatId, {
        botLeftAt: event.botPresent ? undefined : now(),
        // Out of the chat, the bot heard of nobody leaving or joining: what it knew may be stale, so it is forgotten.
        ...(event.botPresent && { memberChanges: undefined }),
        ...(event.at !== undefined && { botMembershipAt: event.at }),
        updatedAt: now(),
      });
      return {
        change: { chats: [updated] },
        done: () =>
          logger.info(
            { chatId: event.chatId, botPresent: event.botPresent },
            event.botPresent ? 'added to a chat again' : 'no longer in a chat: nothing is posted there',
          ),
      };
    });
    return {};
  }

  /**
   * People joining or leaving the chat are written into its record: what the bot posts there (reminders, nudges,
   * digests) does not mention those who left.
   */
  private async receiveMembers(event: MembersEvent): Promise<CardActionAnswer> {
    const { store, now, logger } = this.services;
    if (event.userIds.length === 0) return {};
    await this.commitFromLatest(event.eventId, `the record of chat ${event.chatId}`, async () => {
      const record = await store.chat(event.chatId);
      // From before the bot was last added back: what it knew then was forgotten, and this is no newer.
      if (predatesMembership(event.at, record)) return undefined;
      const people = event.userIds.slice(0, MEMBER_CHANGES_LIMIT);
      const memberChanges = withMemberChanges(record?.memberChanges, people, event.left, event.at ?? now());
      if (!memberChanges) return undefined;
      const updated = changedChat(record, event.chatId, { memberChanges, updatedAt: now() });
      return {
        change: { chats: [updated] },
        done: () => logger.info({ chatId: event.chatId, people: people.length, left: event.left }, event.left ? 'people left a chat' : 'people joined a chat'),
      };
    });
    return {};
  }

  /**
   * Commits what `decide` makes of the records it reads, with the event's id, written from the revisions read: when
   * another write got in first, it reads again (three times at most). `decide` answers nothing when there is nothing to
   * do; `done` runs once this delivery made the change (a repeated delivery made none).
   */
  private async commitFromLatest(
    eventId: string,
    what: string,
    decide: () => Promise<{ change: Omit<Commit, 'now' | 'eventId'>; done: () => void } | undefined>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const decision = await decide();
      if (!decision) return;
      const result = await this.services.store.commit({ ...decision.change, now: this.services.now(), eventId });
      if (result.ok) decision.done();
      if (result.ok || result.reason === 'duplicate') return;
    }
    throw new Error(`${what} kept changing`);
  }

  private async receiveClick(click: CardActionEvent): Promise<CardActionAnswer> {
    const arrived = this.services.now();
    // A click always gets an answer, so one over the budget is told why; it is not stored and changes nothing.
    // Before the card is read its language is unknown: the toast carries every language, `content` the bot's.
    const { botLanguage } = this.services.config;
    const verdict = await pTimeout(
      this.services.clicks.check(click.messageId ?? click.chatId ?? '', click.operatorId).catch((error: unknown) => {
        this.services.logger.warn({ err: error }, 'click throttle unavailable: click let through');
        return 'allow' as const;
      }),
      // A throttle counted in a slow database lets the click through rather than take the time its answer needs.
      { milliseconds: CLICK_THROTTLE_WAIT_MS, fallback: () => 'allow' as const },
    );
    if (verdict !== 'allow') return { toast: toast('info', 'toast.tooManyClicks', botLanguage) };
    // One deadline for the whole click, the throttle's wait included: Feishu's 3 s count from the click.
    const answering = this.answerCardAction(click);
    const handled = await pTimeout(answering, {
      // On the bot's clock (the tests move it): a step of the wall clock only brings "Working on it…" early, never
      // the answer later than the deadline. At least a millisecond: p-timeout refuses 0.
      milliseconds: Math.min(CARD_ANSWER_DEADLINE_MS, Math.max(1, CARD_ANSWER_DEADLINE_MS - (this.services.now() - arrived))),
      fallback: () => undefined,
    });
    if (handled) return handled.answer;
    // Past the deadline: answered "Working on it…", and the decision, when it comes, is told if it is a refusal.
    this.track(
      answering.then((decided) => this.tellLateRefusal(click, decided)),
      'could not tell a late refusal',
    );
    return { toast: toast('info', 'toast.working', botLanguage) };
  }

  /**
   * A click answered "Working on it…" whose decision then came out a refusal (not allowed, raced, too late): the
   * person is told privately, since the toast that would have said so was never shown.
   */
  private async tellLateRefusal(click: CardActionEvent, { answer, lang }: HandledClick): Promise<void> {
    const refusal = answer.toast;
    if (refusal === undefined || (refusal.type !== 'error' && refusal.type !== 'warning') || click.chatId === undefined) return;
    const { admins, store, now } = this.services;
    const chatType = (await admins.chatMode(click.chatId).catch(() => 'group')) === 'p2p' ? 'p2p' : 'group';
    const notice = noticeJob(this.services, `${click.eventId}:late`, {
      chatId: click.chatId,
      userId: click.operatorId,
      text: refusal.content,
      tone: refusal.type,
      lang,
      ...(click.messageId !== undefined && chatType === 'p2p' && { replyTo: click.messageId }),
      chatType,
    });
    await store.commit({ now: now(), jobs: [notice] });
  }
}

/** Whether Feishu made an event (at `at`) before the latest change of the bot's membership the record follows. */
function predatesMembership(at: number | undefined, record: ChatSettings | undefined): boolean {
  return at !== undefined && record?.botMembershipAt !== undefined && at < record.botMembershipAt;
}
