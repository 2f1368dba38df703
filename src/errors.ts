/**
 * Every failure the bot names, in one list (as Bolt's `errors.ts`): each error class the bot throws carries one of
 * these codes, and whoever decides what a failure means (the webhook's answer, the outbox's retry, start-up's last
 * line, the logs) branches on `code` rather than on the class or on the error's shape. This module imports nothing,
 * so every layer may use it.
 */
export const ErrorCode = {
  /** The environment does not describe a bot that can run (config.ts). */
  ConfigInvalid: 'config_invalid',
  /** The data file cannot be used: another process holds it, or it cannot be read (store/embedded). */
  StoreFileUnusable: 'store_file_unusable',
  /** The database cannot be reached, or refused the migrations (store/postgres). */
  StoreOpenFailed: 'store_open_failed',
  /** A commit's condition failed (a duplicate event, a stale record, a lost lease): it was rolled back. */
  CommitRefused: 'commit_refused',
  /** A job's lease passed to another instance: the job stops without writing anything. */
  LeaseLost: 'lease_lost',
  /** A job did part of its work and should run again later. */
  JobRetryLater: 'job_retry_later',
  /** A job's commit lost a race with another change: the job runs again at once, on fresh state. */
  JobCommitConflict: 'job_commit_conflict',
  /** How pushes arrive could not be set up at start (the long connection was refused). */
  ReceiverStartFailed: 'receiver_start_failed',
  /** Feishu refused the app's id and secret. */
  CredentialsRefused: 'credentials_refused',
  /** A push was not proven to come from Feishu (signature, token, age). */
  PushUnauthenticated: 'push_unauthenticated',
  /** A push's body could not be read. */
  PushBodyUnreadable: 'push_body_unreadable',
  /** A signed push's body is larger than the bot accepts. */
  PushBodyTooLarge: 'push_body_too_large',
  /** Too many push bytes are in flight at once: this push is turned away unread, to come again. */
  PushBodyBudgetSpent: 'push_body_budget_spent',
  /** A proven push is not an event the bot understands. */
  EventUnrecognised: 'event_unrecognised',
  /** A fragment of a long-connection push breaks the cache's bounds (count, sequence, size): the push is dropped. */
  EventFragmentRefused: 'event_fragment_refused',
  /** A message's `content` is not what its `message_type` promises. */
  MessageContentInvalid: 'message_content_invalid',
  /** Feishu answered with a refusal (an HTTP error, or HTTP 200 with `code` ≠ 0). */
  FeishuRefused: 'feishu_refused',
  /** Feishu could not be reached or did not answer in time. */
  FeishuUnreachable: 'feishu_unreachable',
  /** A call to Feishu gave up: its retries ran out, or the wait asked for was too long. */
  FeishuGaveUp: 'feishu_gave_up',
  /** Feishu's rate limit would hold a call longer than the caller may wait. */
  RateLimitWaitTooLong: 'rate_limit_wait_too_long',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The base of the bot's own errors: a message for people and logs, a code for code. */
export abstract class CodedError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The bot's code for a failure, or undefined for one that is not the bot's (a bug, the operating system's, a
 * driver's). Read from the value rather than by `instanceof`, so that an error keeps its meaning when it crosses a
 * module boundary; Node's and PostgreSQL's own `code`s (`EADDRINUSE`, `40001`) are not in the list, so never match.
 */
export function errorCode(error: unknown): ErrorCode | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && CODES.has(code) ? (code as ErrorCode) : undefined;
}
