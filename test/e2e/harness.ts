import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConnectionDelivery,
  type Emulator,
  type EmulatorOptions,
  type RecordedCall,
  cardActionEvent,
  messageEvent,
  messageRecalledEvent,
  startEmulator,
  validateCallbackAnswer,
} from '../../emulator';
import { type AppOptions, type RunningApp, startApp } from '../../src/app';
import { type Config, loadConfig } from '../../src/config';
import { FORM_FIELDS } from '../../src/domain/todo-form';
import { createLogger } from '../../src/log';
import { SECRETS, botEnv } from '../bot-env';

/**
 * The bot as Feishu meets it: the real app on a real port, its SDK pointed at the in-repo emulator, and
 * pushes signed and encrypted by the emulator exactly as Feishu sends them.
 */

export { SECRETS, botEnv };

export interface Harness {
  emu: Emulator;
  app: RunningApp;
  config: Config;
  logs: string[];
  /** Sends a group message from `sender` and returns the bot's answer. */
  say(sender: string, text: string, opts?: SayOptions): Promise<Answer>;
  /**
   * Clicks a card button as `operator`. Like Feishu for a button, the callback carries no `timezone` unless given
   * (Feishu documents it for picker interactions only).
   */
  click(operator: string, messageId: string, value: Record<string, unknown> | undefined, opts?: ClickOptions): Promise<Answer>;
  /** Feishu tells the bot a message of `chatId` (default `oc_group`) was recalled (`im.message.recalled_v1`). */
  recalled(messageId: string, opts?: { chatId?: string }): Promise<Answer>;
  /** Pushes any event payload (a task event, say) to the bot's event route, signed and encrypted as Feishu sends it. */
  event(payload: object): Promise<Answer>;
  /** Waits until the bot has no outbound work left, including retries scheduled a little later (at most 15 s). */
  settled(): Promise<void>;
  /** Stops the bot (gracefully) and starts it again on the same data file, running `between` while it is down. */
  restart(between?: () => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** Calls the bot made to Feishu since it last started, after its start-up check of the credentials. */
  callsSinceStart(): RecordedCall[];
}

/**
 * The bot's answer to a push. Over the webhook: the HTTP status and body. Over the long connection: the ack's code
 * (200, or 500 when the handler threw; 0 when no ack came), the handler's answer, and every delivery Feishu made.
 */
export interface Answer {
  status: number;
  body: any;
  elapsedMs: number;
  deliveries?: ConnectionDelivery[];
}

export interface SayOptions {
  chatId?: string | undefined;
  chatType?: 'group' | 'p2p' | 'topic_group' | undefined;
  eventId?: string | undefined;
  parentId?: string | undefined;
  /** A topic group's topic the message is in (every message there has one). */
  threadId?: string | undefined;
  messageId?: string | undefined;
  mentionBot?: boolean | undefined;
  /** Also mention these people, after the bot: their keys (`@_user_2`) go where the text has them. */
  people?: Array<{ key: string; openId: string; name: string }> | undefined;
  /** Also mention everyone (`@_all`) first, as `@所有人 @Bot /todos`. */
  everyone?: boolean | undefined;
  /** `post`: the message arrives as rich text, as it does once the person formats it. */
  format?: 'text' | 'post' | undefined;
  style?: string[] | undefined;
  /** When the person sent it (ms), as Feishu stamps the message; by default the bot's time now. */
  sentAt?: number | undefined;
}

export interface ClickOptions {
  formValue?: Record<string, unknown> | undefined;
  timezone?: string | undefined;
  eventId?: string | undefined;
  chatId?: string | undefined;
  /** The clicked component's name. */
  name?: string | undefined;
}

export interface HarnessOptions {
  /**
   * The bot's time, moved by the test (`clock.advance`) rather than passing; the emulator keeps the real time unless
   * given `clock.now` too (its 14-day card window, its 1-hour uuid window).
   */
  clock?: TestClock | undefined;
  env?: Record<string, string> | undefined;
  emulator?: EmulatorOptions | undefined;
  app?: AppOptions | undefined;
  /** How Feishu reaches the bot. Default 'webhook': signed, encrypted HTTP pushes. */
  transport?: 'webhook' | 'long-connection' | undefined;
}

/**
 * Time that passes only when a test moves it: reminders, digests and Feishu's windows are tested without waiting for
 * real hours. Given to `startHarness`, it is the bot's clock and `advance` wakes that bot.
 */
export class TestClock {
  private bot: Pick<Harness, 'app' | 'settled'> | undefined;

  constructor(private time: number) {}

  /** The time now, as the bot reads it. */
  readonly now = (): number => this.time;

  /** Moves the time on without telling the bot: time that passed while it was down, or a clock that jumped. */
  jump(ms: number): void {
    this.time += ms;
  }

  /** Moves the time on and lets the bot catch up: its scheduler and outbox look for what fell due, and all of it runs. */
  async advance(ms: number): Promise<void> {
    this.jump(ms);
    if (!this.bot) throw new Error('no bot runs on this clock: give it to startHarness');
    this.bot.app.wake();
    await this.bot.settled();
  }

  /** The bot `advance` wakes: the harness started on this clock. */
  drive(bot: Pick<Harness, 'app' | 'settled'>): void {
    this.bot = bot;
  }
}

/** Long-connection timings for tests: reconnect and redeliver at once rather than after Feishu's minutes. */
export const FAST_LONG_CONNECTION = { reconnectIntervalSeconds: 0.05, reconnectNonceSeconds: 0, redeliveryDelaysMs: [50, 100, 200, 400] };

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const overConnection = options.transport === 'long-connection';
  const emu = await startEmulator({
    appId: SECRETS.appId,
    appSecret: SECRETS.appSecret,
    ...(overConnection && { longConnection: FAST_LONG_CONNECTION }),
    ...options.emulator,
  });
  const dir = await mkdtemp(join(tmpdir(), 'todo-e2e-'));
  const env = { ...(overConnection && { FEISHU_EVENTS: 'long-connection' }), ...options.env };
  const config = loadConfig(botEnv({ feishuDomain: emu.url, dataFile: join(dir, 'db.json'), logLevel: 'debug', extra: env }));
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => void logs.push(line) });
  const appOptions: AppOptions = {
    logger,
    feishuRetry: { baseDelayMs: 5, maxDelayMs: 50 },
    jobRetryDelaysMs: [50, 100, 200],
    ...(options.clock && { now: options.clock.now }),
    ...options.app,
  };
  // Over the long connection, pushes can go out once the emulator has the bot's connection ready.
  let startupCalls = 0;
  // The console's event subscription, which Feishu pushes to of its own accord (task events).
  const subscribe = (url: string) =>
    emu.setEventSubscription(
      overConnection
        ? { longConnection: true, verificationToken: SECRETS.verificationToken }
        : { url: `${url}/webhook/event`, verificationToken: SECRETS.verificationToken, encryptKey: SECRETS.encryptKey, clock: appOptions.now },
    );
  const start = async () => {
    const started = await startApp(config, appOptions);
    subscribe(started.url);
    if (overConnection) await emu.awaitConnections(1);
    startupCalls = emu.calls.length;
    return started;
  };
  let app = await start();
  let pushes = 0;
  // Pushes are signed with the app's clock, so a test that moves the clock does not make them stale.
  const timestamp = () => Math.floor((appOptions.now ?? Date.now)() / 1000);
  const send = async (route: string, payload: object): Promise<Answer> => {
    if (!overConnection) return emu.push(`${app.url}${route}`, payload, { encryptKey: SECRETS.encryptKey, timestamp: timestamp() });
    const { answer, deliveries } = await emu.pushOverConnection(payload);
    const last = deliveries.at(-1);
    return { status: last?.code ?? 0, body: answer, elapsedMs: last?.elapsedMs ?? 0, deliveries };
  };

  const harness: Harness = {
    emu,
    get app() {
      return app;
    },
    config,
    logs,
    async say(sender, text, opts = {}) {
      const sentAt = opts.sentAt ?? (appOptions.now ?? Date.now)();
      return send('/webhook/event', messagePayload(sender, text, { ...opts, sentAt }, opts.eventId ?? `ev_msg_${++pushes}_${Date.now()}`));
    },
    async recalled(messageId, opts = {}) {
      const payload = messageRecalledEvent({
        token: SECRETS.verificationToken,
        messageId,
        chatId: opts.chatId,
        eventId: `ev_recall_${++pushes}_${Date.now()}`,
      });
      return send('/webhook/event', payload);
    },
    event: (payload) => send('/webhook/event', payload),
    async click(operator, messageId, value, opts = {}) {
      const answer = await send('/webhook/card', clickPayload(operator, messageId, value, opts, opts.eventId ?? `ev_card_${++pushes}_${Date.now()}`));
      checkCallbackAnswer(answer);
      return answer;
    },
    async settled() {
      const deadline = Date.now() + 15_000;
      // The events Feishu pushes for what the bot's calls changed are part of settling, and so are the jobs they store.
      const round = async () => {
        await app.settled();
        await emu.eventsSettled();
        await app.settled();
      };
      await round();
      while ((await app.store.stats()).pendingJobs > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await round();
      }
    },
    callsSinceStart: () => emu.calls.slice(startupCalls),
    async restart(between) {
      await app.stop();
      await between?.();
      app = await start();
    },
    async stop() {
      await app.stop();
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  options.clock?.drive(harness);
  return harness;
}

/** What the flow helpers below need of a harness: pushes, settling, the emulator, and a running app's store to read. */
export type FlowHarness = Pick<Harness, 'emu' | 'app' | 'say' | 'click' | 'settled'>;

/** The `im.message.receive_v1` push `say` sends: `sender`'s message, mentioning the bot unless told not to. */
export function messagePayload(sender: string, text: string, opts: SayOptions, eventId: string): object {
  const bot = opts.mentionBot === false ? [] : [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }];
  const everyone = opts.everyone ? [{ key: '@_all', name: '所有人' }] : [];
  return messageEvent({
    token: SECRETS.verificationToken,
    senderId: sender,
    text: [...everyone, ...bot].map((m) => `${m.key} `).join('') + text,
    mentions: [...everyone, ...bot, ...(opts.people ?? [])],
    format: opts.format,
    style: opts.style,
    chatId: opts.chatId,
    chatType: opts.chatType,
    eventId,
    parentId: opts.parentId,
    threadId: opts.threadId,
    messageId: opts.messageId,
    createTime: opts.sentAt,
  });
}

/** The `card.action.trigger` push `click` sends. */
export function clickPayload(operator: string, messageId: string, value: Record<string, unknown> | undefined, opts: ClickOptions, eventId: string): object {
  return cardActionEvent({
    token: SECRETS.verificationToken,
    operatorId: operator,
    messageId,
    value,
    chatId: opts.chatId,
    formValue: opts.formValue,
    name: opts.name,
    timezone: opts.timezone,
    eventId,
  });
}

/** Feishu reads a callback's answer as it reads a card: a toast or a card of the wrong shape fails the click. */
export function checkCallbackAnswer(answer: Answer): void {
  const wrong = answer.status === 200 ? validateCallbackAnswer(answer.body ?? {}) : null;
  if (wrong) throw new Error(`Feishu would refuse this callback answer: ${wrong}\n${JSON.stringify(answer.body)}`);
}

/** The form's field values as Feishu sends them on Submit. */
export function formValues(p: { text?: string | undefined; remindAt?: string | undefined; assignees?: string[] | undefined }): Record<string, unknown> {
  return {
    [FORM_FIELDS.text]: p.text ?? '',
    ...(p.remindAt !== undefined && { [FORM_FIELDS.remindAt]: p.remindAt }),
    ...(p.assignees !== undefined && { [FORM_FIELDS.assignees]: p.assignees }),
  };
}

/** A picker value `hours` from now, in +08:00, as the datetime picker sends it. */
export function pickerValueInHours(hours: number, from = Date.now()): string {
  const local = new Date(from + hours * 3_600_000 + 8 * 3_600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())} +0800`;
}

/**
 * A card's JSON as a reader sees its text: the entities Feishu documents for markdown (`&#40;` for `(`, `&sim;` for
 * `~`) decoded.
 */
export function readable(card: unknown): string {
  return JSON.stringify(card)
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replaceAll('&sim;', '~');
}

/** Messages the bot created, by kind. */
/** A topic group (话题群) beside the default group, its owner and admin the same: its forms go by direct message. */
export const TOPIC_GROUP = {
  chatId: 'oc_topic',
  chatType: 'group' as const,
  mode: 'topic' as const,
  ownerId: 'ou_owner',
  managerIds: ['ou_admin'],
  memberIds: ['ou_owner', 'ou_admin', 'ou_member', 'ou_alice'],
};
/** Whether a card still offers a Submit (a form card not yet closed). */
export const hasSubmit = (card: unknown) => JSON.stringify(card).includes('"form_action_type":"submit"');
export const ephemeralCards = (h: FlowHarness) => [...h.emu.messages.values()].filter((m) => m.kind === 'ephemeral');
export const groupCards = (h: FlowHarness) => [...h.emu.messages.values()].filter((m) => m.kind === 'message');
/** A form card, in whichever language: the one card with a form in it. */
const isFormCard = (card: any) => Array.isArray(card?.body?.elements) && card.body.elements.some((e: { tag?: string }) => e.tag === 'form');
export const formCards = (h: FlowHarness, owner?: string) =>
  ephemeralCards(h).filter((m) => isFormCard(m.card) && (owner === undefined || m.visibleTo === owner));
/** Notices shown to one person: ephemeral cards other than forms, and replies. */
export const noticesTo = (h: FlowHarness, user: string) =>
  [...h.emu.messages.values()]
    .filter((m) => (m.kind === 'ephemeral' && m.visibleTo === user && !isFormCard(m.card)) || m.kind === 'reply')
    .map((m) => JSON.stringify(m.card));

/** The callback value of the button whose value has this `action`, anywhere in a card. */
export function buttonValue(card: unknown, action: string): Record<string, unknown> {
  const stack: unknown[] = [card];
  while (stack.length) {
    const node = stack.pop() as { behaviors?: Array<{ value?: Record<string, unknown> }> } | null;
    if (node && typeof node === 'object') {
      const value = node.behaviors?.[0]?.value;
      if (value?.action === action) return value;
      stack.push(...Object.values(node));
    }
  }
  throw new Error(`no ${action} button`);
}

/** A card's form submit buttons in the order the card lists them: each one's name and the action its callback asks for. */
function formSubmitButtons(node: unknown): Array<{ name: string; action: unknown }> {
  if (Array.isArray(node)) return node.flatMap(formSubmitButtons);
  if (node === null || typeof node !== 'object') return [];
  const button = node as { tag?: string; form_action_type?: string; name?: string; behaviors?: Array<{ value?: { action?: unknown } }> };
  if (button.tag === 'button' && button.form_action_type === 'submit' && typeof button.name === 'string') {
    return [{ name: button.name, action: button.behaviors?.[0]?.value?.action }];
  }
  return Object.values(node).flatMap(formSubmitButtons);
}

/**
 * The `name` of a card's form submit button (what Feishu sends back as `action.name` when it is pressed): the one
 * whose callback asks for `action`, else the card's first.
 */
export function submitButtonName(card: unknown, action?: string): string {
  const buttons = formSubmitButtons(card);
  const found = action === undefined ? buttons[0] : buttons.find((b) => b.action === action);
  if (!found) throw new Error(`no form submit button${action === undefined ? '' : ` for ${action}`}`);
  return found.name;
}

export function submitForm(
  h: FlowHarness,
  owner: string,
  form: { messageId: string; card: unknown },
  formValue: Record<string, unknown>,
  opts: Omit<ClickOptions, 'formValue' | 'name'> & { value?: Record<string, unknown> | undefined } = {},
) {
  const { value, ...rest } = opts;
  return h.click(owner, form.messageId, value, { ...rest, formValue, name: submitButtonName(form.card, 'todo.submit') });
}

/**
 * Cancel pressed as a client presses it: a submit button of the form, so the click carries the button's name and
 * every field as it stands (here empty), and, as some clients do on a form submit, no value.
 */
export function cancelForm(h: FlowHarness, owner: string, form: { messageId: string; card: unknown }, opts: Omit<ClickOptions, 'formValue' | 'name'> = {}) {
  return h.click(owner, form.messageId, undefined, { ...opts, formValue: formValues({}), name: submitButtonName(form.card, 'todo.cancel') });
}

/** `/todo` from `owner`, and the form it produced. */
export async function openForm(h: FlowHarness, owner = 'ou_admin', text = '') {
  const answer = await h.say(owner, `/todo ${text}`.trim());
  if (answer.status !== 200) throw new Error(`push refused: ${answer.status}`);
  await h.settled();
  const form = formCards(h, owner).at(-1);
  if (!form) throw new Error('no form was sent');
  return { messageId: form.messageId, formId: buttonValue(form.card, 'todo.submit').formId as string, card: form.card };
}

/** A to-do posted to the group by `owner`, through the form. */
export async function postTodo(
  h: FlowHarness,
  p: { owner?: string; text?: string; assignees?: string[]; remindAt?: string; repeat?: string; timezone?: string } = {},
) {
  const owner = p.owner ?? 'ou_admin';
  const form = await openForm(h, owner);
  const answer = await submitForm(
    h,
    owner,
    form,
    { ...formValues({ text: p.text ?? 'A to-do', assignees: p.assignees, remindAt: p.remindAt }), ...(p.repeat && { [FORM_FIELDS.repeat]: p.repeat }) },
    { timezone: p.timezone },
  );
  if (answer.body?.toast?.type !== 'success') throw new Error(`submit refused: ${JSON.stringify(answer.body)}`);
  await h.settled();
  const card = groupCards(h).at(-1);
  const todo = card && (await h.app.services.store.todoByMessage(card.messageId));
  if (!card || !todo) throw new Error('no to-do card was posted');
  return { messageId: card.messageId, todoId: todo.id, card };
}
