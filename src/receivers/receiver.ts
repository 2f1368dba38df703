import { CodedError, ErrorCode } from '../errors';
import type { CardActionAnswer, FeishuEvent } from '../feishu/events';

/**
 * How pushes reach the bot, after Bolt's receivers: the webhook (`webhook.ts`) or the SDK's long connection
 * (`long-connection.ts`). Each turns a push into a typed event, hands it to one `Receive`, and returns the answer its
 * own way (an HTTP body, an ack frame). Nothing past a receiver knows which one a push came through. The answer comes
 * at once when nothing has to wait for it (chatter, an event the bot does not handle), and as a promise otherwise.
 */
export type Receive = (event: FeishuEvent) => CardActionAnswer | Promise<CardActionAnswer>;

export const RECEIVER_STATES = ['connecting', 'open', 'reconnecting', 'failed', 'closed'] as const;
export type ReceiverState = (typeof RECEIVER_STATES)[number];

export interface ReceiverHealth {
  transport: 'webhook' | 'long-connection';
  state: ReceiverState;
  /** When it entered that state, ISO 8601. */
  since: string;
  /** Connections restored after a loss, since start. */
  reconnects: number;
}

export interface Receiver {
  /** Resolves once pushes can arrive; rejects with a ReceiverStartError when they never will. */
  start(): Promise<void>;
  /** Stops taking pushes, once those in hand are answered. */
  stop(): Promise<void>;
  health(): ReceiverHealth;
}

/** Start-up cannot go on; the message is one line saying which setting to fix. */
export class ReceiverStartError extends CodedError {
  readonly code = ErrorCode.ReceiverStartFailed;
}
