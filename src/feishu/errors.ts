import type { MessageKey } from '../i18n';
import { meaningOf } from './error-codes';

/** Feishu answered, and the answer was a refusal (an HTTP error, or HTTP 200 with `code` ≠ 0). */
export class FeishuApiError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly feishuMsg: string,
    readonly httpStatus: number,
    readonly logId?: string,
    /** Seconds Feishu asked us to wait (x-ogw-ratelimit-reset), when it said. */
    readonly resetSeconds?: number,
  ) {
    super(`${method} failed with Feishu code ${code}: ${feishuMsg}`);
    this.name = 'FeishuApiError';
  }

  /** The sentence a person is shown (a key of the message catalogs). */
  get say(): MessageKey {
    return meaningOf(this.code).say;
  }
}

/** Feishu could not be reached or did not answer in time. */
export class FeishuNetworkError extends Error {
  constructor(
    readonly method: string,
    readonly detail: string,
  ) {
    super(`${method} could not reach Feishu: ${detail}`);
    this.name = 'FeishuNetworkError';
  }

  get say(): MessageKey {
    return 'feishuError.unreachable';
  }
}

/** A call gave up: the retries ran out, or Feishu asked for a wait longer than the bot may wait. */
export class FeishuGaveUpError extends Error {
  constructor(
    readonly method: string,
    readonly last: FeishuApiError | FeishuNetworkError,
    reason: string,
  ) {
    super(`${method} gave up: ${reason} (last: ${last.message})`);
    this.name = 'FeishuGaveUpError';
  }

  get say(): MessageKey {
    return this.last.say;
  }
}

export type FeishuError = FeishuApiError | FeishuNetworkError | FeishuGaveUpError;

export function isFeishuError(err: unknown): err is FeishuError {
  return err instanceof FeishuApiError || err instanceof FeishuNetworkError || err instanceof FeishuGaveUpError;
}

/** A failure that waiting can cure: the network, Feishu's limits, Feishu's own 5xx. */
export function isTransient(err: unknown): boolean {
  if (err instanceof FeishuNetworkError || err instanceof FeishuGaveUpError) return true;
  if (err instanceof FeishuApiError) return err.httpStatus >= 500 || err.httpStatus === 429 || meaningOf(err.code).retry === true;
  return false;
}
