import { CodedError, ErrorCode, errorCode } from '../errors';
import { meaningOf } from './error-codes';

/** Feishu answered, and the answer was a refusal (an HTTP error, or HTTP 200 with `code` ≠ 0). */
export class FeishuApiError extends CodedError {
  readonly code = ErrorCode.FeishuRefused;

  constructor(
    readonly method: string,
    /** Feishu's own code (`230020`), or the HTTP status when the answer carried none. */
    readonly feishuCode: number,
    readonly feishuMsg: string,
    readonly httpStatus: number,
    readonly logId?: string,
    /** Seconds Feishu asked us to wait (x-ogw-ratelimit-reset), when it said. */
    readonly resetSeconds?: number,
  ) {
    super(`${method} failed with Feishu code ${feishuCode}: ${feishuMsg}`);
  }
}

/** Feishu could not be reached or did not answer in time. */
export class FeishuNetworkError extends CodedError {
  readonly code = ErrorCode.FeishuUnreachable;

  constructor(
    readonly method: string,
    readonly detail: string,
  ) {
    super(`${method} could not reach Feishu: ${detail}`);
  }
}

/** A call gave up: the retries ran out, or Feishu asked for a wait longer than the bot may wait. */
export class FeishuGaveUpError extends CodedError {
  readonly code = ErrorCode.FeishuGaveUp;

  constructor(
    readonly method: string,
    last: FeishuApiError | FeishuNetworkError,
    reason: string,
  ) {
    super(`${method} gave up: ${reason} (last: ${last.message})`, { cause: last });
  }

  /** The last failure before giving up (the `cause`, which a log line shows once). */
  get last(): FeishuApiError | FeishuNetworkError {
    return this.cause as FeishuApiError | FeishuNetworkError;
  }
}

export type FeishuError = FeishuApiError | FeishuNetworkError | FeishuGaveUpError;

export function isFeishuError(err: unknown): err is FeishuError {
  const code = errorCode(err);
  return code === ErrorCode.FeishuRefused || code === ErrorCode.FeishuUnreachable || code === ErrorCode.FeishuGaveUp;
}

/** The refusal behind a failure, if Feishu answered at all: the error itself, or the last answer before giving up. */
export function feishuRefusal(err: unknown): FeishuApiError | undefined {
  if (!isFeishuError(err)) return undefined;
  const last = err.code === ErrorCode.FeishuGaveUp ? err.last : err;
  return last.code === ErrorCode.FeishuRefused ? last : undefined;
}

/** A failure that waiting can cure: the network, Feishu's limits, Feishu's own 5xx. */
export function isTransient(err: unknown): boolean {
  if (!isFeishuError(err)) return false;
  switch (err.code) {
    case ErrorCode.FeishuUnreachable:
    case ErrorCode.FeishuGaveUp:
      return true;
    case ErrorCode.FeishuRefused:
      return err.httpStatus >= 500 || err.httpStatus === 429 || meaningOf(err.feishuCode).retry === true;
  }
}
