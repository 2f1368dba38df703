import { setTimeout as sleep } from 'node:timers/promises';
import type * as lark from '@larksuiteoapi/node-sdk';
import { ErrorCode, errorCode } from '../errors';
import { type CardActionAnswer, type FeishuEvent, parseEvent } from '../feishu/events';
import { loadOutboundModules, sdkLogLine } from '../feishu/sdk';
import type { Logger } from '../log';
import { FragmentCache, fragmentLimits, installFragmentCache } from './fragment-cache';
import { type Receive, type Receiver, type ReceiverHealth, ReceiverStartError, type ReceiverState } from './receiver';

/**
 * Pushes over Feishu's long connection, opened by the SDK's own `WSClient`: it fetches the WebSocket URL with the App
 * ID and Secret, pings, reconnects, joins fragments, and hands each parsed envelope to `invoke`, whose result it sends
 * back in the ack frame (code 500 if `invoke` threw, and Feishu then redelivers an event). This file gives it an
 * `invoke` that parses the envelope and calls the bot, follows its lifecycle callbacks into a state for /healthz,
 * and closes it on stop once the pushes in hand are answered.
 */

export interface LongConnectionOptions {
  appId: string;
  appSecret: string;
  domain: string;
  logger: Logger;
  receive: Receive;
  now?: () => number;
  /** How long stop() waits for pushes in hand to be answered before closing anyway. Default: Feishu's 3 s. */
  drainMs?: number;
  /**
   * The most the bot takes to answer a click. Once stopping, a click is taken only if its answer can go before the
   * connection closes; every other push is left for Feishu to deliver again (an event, to this app's next connection).
   */
  clickAnswerMs?: number;
  /** Most bytes one push may hold, and all unfinished (fragmented) pushes together: the webhook's body limits. */
  pushLimitBytes: number;
  budgetBytes: number;
  /** How long start() waits for the connection before the bot starts anyway, connecting in the background. */
  startWaitMs?: number;
  /** After Feishu refused a reconnect, how long before the first new try (doubling to RETRY_FAILED_MAX_MS). */
  retryFailedAfterMs?: number;
}

/** No inbound frame this long after a ping: the connection is dead though no error said so (a sleeping NAT). */
const PING_TIMEOUT_SECONDS = 30;
const HANDSHAKE_TIMEOUT_MS = 15_000;
/**
 * Feishu refusing the credentials answers at once; Feishu out of reach is retried by the SDK for ever, telling no one.
 * Start-up waits this long, then goes on with the connection still being tried: a bot that never finished starting
 * would ignore SIGTERM, and its health check could not say why.
 */
const START_WAIT_MS = 10_000;
/**
 * Feishu refusing a reconnect (the SDK gives up on any endpoint answer but its retryable one, "system busy" included)
 * is tried again after a minute, then after twice as long each time, up to half an hour: a bot that stopped listening
 * for good would be deaf until someone noticed, since a failed health check restarts nothing under plain Docker or
 * systemd. The SDK's own wait between reconnects is two minutes.
 */
const RETRY_FAILED_AFTER_MS = 60_000;
const RETRY_FAILED_MAX_MS = 30 * 60_000;

export class LongConnectionReceiver implements Receiver {
  private readonly log: Logger;
  private readonly now: () => number;
  private client: lark.WSClient | undefined;
  private state: ReceiverState = 'connecting';
  private since: number;
  private reconnects = 0;
  /** Pushes being handled: stop() lets them answer, and the store they write to outlive them. */
  private readonly inHand = new Set<Promise<unknown>>();
  private settleStart: ((error?: Error) => void) | undefined;
  /** Whether a connection was ever open: after that, an opening is a restoration. */
  private everOpened = false;
  /** When the open connection was lost: its restoration's downtime counts from here, across refused tries. */
  private lostAt: number | undefined;
  /** Set once stop() begins: until when pushes in hand may finish before the connection closes. */
  private drainUntil: number | undefined;
  private dispatcher: lark.EventDispatcher | undefined;
  /** The next try after a refused reconnect. */
  private retryTimer: NodeJS.Timeout | undefined;
  /** Refusals since the connection was last open: each try waits twice as long as the one before. */
  private refusals = 0;
  /** Fragments of split pushes waiting for the rest, bounded (the SDK's own cache is not). */
  readonly fragments: FragmentCache;

  constructor(private readonly options: LongConnectionOptions) {
    this.log = options.logger.child({ module: 'long-connection' });
    this.now = options.now ?? Date.now;
    this.since = this.now();
    this.fragments = new FragmentCache(fragmentLimits(options.pushLimitBytes, options.budgetBytes), this.now);
  }

  start(): Promise<void> {
    const { WSClient, LoggerLevel } = loadOutboundModules().lark;
    const started = new Promise<void>((resolve, reject) => {
      this.settleStart = (error) => (error ? reject(error) : resolve());
    });
    const client = new WSClient({
      appId: this.options.appId,
      appSecret: this.options.appSecret,
      domain: this.options.domain,
      logger: sdkLines(this.log),
      // The SDK filters before it calls the logger: let through what ours would keep.
      loggerLevel: this.log.isLevelEnabled('trace') ? LoggerLevel.trace : this.log.isLevelEnabled('debug') ? LoggerLevel.debug : LoggerLevel.warn,
      wsConfig: { pingTimeout: PING_TIMEOUT_SECONDS },
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      onReady: () => this.opened(),
      onReconnecting: () => this.lost(),
      onReconnected: () => this.restored(),
      onError: (error) => this.failed(error),
    });
    installFragmentCache(client, this.fragments);
    this.client = client;
    // Any object with `invoke` will do: the SDK calls nothing else on it.
    const dispatcher = { invoke: (data: unknown) => this.invoke(data) } as unknown as lark.EventDispatcher;
    this.dispatcher = dispatcher;
    void client.start({ eventDispatcher: dispatcher }).then(() => {
      // start() returns without connecting, and says so only in its log, when the App ID is not `cli_` + 16 hex digits.
      if (client.getConnectionStatus().state === 'idle') this.failed(new Error('the SDK does not take this App ID'));
    });
    const waited = sleep(this.options.startWaitMs ?? START_WAIT_MS, undefined, { ref: false }).then(() => {
      if (!this.settleStart) return;
      // From here a refusal is the failed state on /healthz and an error in the log, not a failed start.
      this.settleStart = undefined;
      this.log.warn('long connection not open yet: starting anyway, still connecting (see /healthz)');
    });
    return Promise.race([started, waited]);
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    clearTimeout(this.retryTimer);
    const until = this.now() + (this.options.drainMs ?? 3000);
    this.drainUntil = until;
    while (this.inHand.size > 0 && this.now() < until) {
      await Promise.race([Promise.allSettled([...this.inHand]), sleep(until - this.now())]);
    }
    client.close();
    this.enter('closed');
    // Answers still being worked out go nowhere now (Feishu redelivers those events), but they write to the store.
    await Promise.allSettled([...this.inHand]);
    this.log.info('long connection closed');
  }

  health(): ReceiverHealth {
    return { transport: 'long-connection', state: this.state, since: new Date(this.since).toISOString(), reconnects: this.reconnects };
  }

  private invoke(data: unknown): Promise<CardActionAnswer | undefined> {
    const answer = this.handle(data);
    this.inHand.add(answer);
    const forget = () => this.inHand.delete(answer);
    answer.then(forget, forget);
    return answer;
  }

  private async handle(data: unknown): Promise<CardActionAnswer | undefined> {
    let event: FeishuEvent;
    try {
      event = parseEvent(typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {});
    } catch (error) {
      if (errorCode(error) !== ErrorCode.EventUnrecognised) throw error;
      // Acknowledged, not refused: a redelivery would be refused the same way.
      this.log.warn({ reason: (error as Error).message }, 'push refused: unrecognised event');
      return undefined;
    }
    if (this.drainUntil !== undefined && !(event.type === 'card_action' && this.now() + (this.options.clickAnswerMs ?? 0) <= this.drainUntil)) {
      // Acked with code 500: Feishu delivers an event again later; a click too late to answer shows its error now,
      // rather than taking effect with its answer cut off by the close.
      this.log.info({ eventId: event.eventId, type: event.type }, 'push left for Feishu to deliver again: stopping');
      throw new Error('stopping: not taking new pushes');
    }
    try {
      return await this.options.receive(event);
    } catch (error) {
      // The SDK acks with code 500, and Feishu redelivers an event (never a card callback).
      this.log.error({ eventId: event.eventId, err: error }, 'push failed');
      throw error;
    }
  }

  private opened(): void {
    // The SDK reports a connection made by a try after a refusal as a first opening: after one was open, a reconnect.
    if (this.everOpened) return this.restored();
    this.everOpened = true;
    this.enter('open');
    this.log.info('long connection open');
    this.settleStart?.();
    this.settleStart = undefined;
  }

  private lost(): void {
    this.lostAt ??= this.now();
    this.enter('reconnecting');
    this.log.warn('long connection lost; reconnecting');
  }

  private restored(): void {
    const downMs = this.now() - (this.lostAt ?? this.since);
    this.lostAt = undefined;
    this.reconnects++;
    this.enter('open');
    this.log.info({ reconnects: this.reconnects, downMs }, 'long connection restored');
  }

  private failed(error: Error): void {
    this.enter('failed');
    if (this.settleStart) {
      this.settleStart(new ReceiverStartError(startFailure(error)));
      this.settleStart = undefined;
      return;
    }
    // Feishu refused a reconnect (credentials changed, app disabled, or busy): /healthz answers 503 until a try works.
    const waitMs = Math.min((this.options.retryFailedAfterMs ?? RETRY_FAILED_AFTER_MS) * 2 ** this.refusals, RETRY_FAILED_MAX_MS);
    this.refusals++;
    this.log.error({ err: error, retryInMs: waitMs }, 'long connection failed; trying again later');
    this.retryTimer = setTimeout(() => this.retry(), waitMs).unref();
  }

  private retry(): void {
    const { client, dispatcher } = this;
    if (!client || !dispatcher) return;
    this.log.info('long connection: trying again');
    void client.start({ eventDispatcher: dispatcher });
  }

  private enter(state: ReceiverState): void {
    this.state = state;
    this.since = this.now();
    if (state === 'open') this.refusals = 0;
  }
}

/** One line naming what to fix, from the SDK's "pullConnectConfig failed: code=…, msg=…". */
function startFailure(error: Error): string {
  const refusal = /code=(\d+), msg=(.*)$/.exec(error.message);
  const reason = refusal ? `Feishu refused it (${refusal[1]}: ${refusal[2]})` : error.message;
  return (
    `Could not open the long connection: ${reason}. Check FEISHU_APP_ID and FEISHU_APP_SECRET (developer console, ` +
    'Credentials & Basic Info; an App ID is cli_ and 16 hex digits), and that the app is a published custom app.'
  );
}

/** The SDK's log lines, at our levels (its errors are mostly retried connect attempts: warnings here). */
function sdkLines(log: Logger): lark.Logger {
  const line = (args: unknown[]) => ({ sdk: withoutCredentials(sdkLogLine(args)) });
  return {
    error: (...args) => log.warn(line(args), 'sdk'),
    warn: (...args) => log.warn(line(args), 'sdk'),
    info: (...args) => log.debug(line(args), 'sdk'),
    debug: (...args) => log.debug(line(args), 'sdk'),
    trace: (...args) => log.trace(line(args), 'sdk'),
  };
}

/** The WebSocket URL the SDK logs at debug carries an access key and a ticket in its query. */
const withoutCredentials = (text: string) => text.replace(/(wss?:\/\/[^\s?]+)\?\S*/g, '$1?[Redacted]');
