import type { AxiosError } from 'axios';
import type { Logger } from '../log';
import { AnswerWindows, type CallHold } from './answer-windows';
import { meaningOf } from './error-codes';
import { FeishuApiError, FeishuGaveUpError, FeishuNetworkError, isTransient } from './errors';
import { type LimitKeys, type LimitedMethod, type Limiter, RateLimitWaitTooLong } from './rate-limits';
import { stoppingError, unlessStopped } from './stopping';

/**
 * The one path every Feishu call takes: rate-limit permits, then the call, then the answer normalised into
 * success or one error shape, with retries for what a retry can fix. Handlers never see axios or raw codes.
 */

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest wait the bot accepts when Feishu says how long to wait; beyond it the call fails with a reason. */
  maxWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, maxWaitMs: 30_000 };

export interface CallSpec<T> {
  /** Name for logs and errors, e.g. "im.message.create". */
  name: string;
  limit?: { method: LimitedMethod; keys: LimitKeys };
  run: () => Promise<T>;
  /**
   * Tries at most this many times (default: the policy's): the start-up check tries once and reports, a profile
   * look-up whose answer is only a hint tries twice.
   */
  attempts?: number | undefined;
}

/** What the transport reports of each attempt, for metrics and for knowing whether Feishu is reachable. */
export interface FeishuObserver {
  /** One attempt: the call's name, how it ended (`0`, Feishu's code, or `network`), and how long it took. */
  attempt(api: string, result: string, seconds: number): void;
  /** A call waited this long for one of Feishu's rate limits before it was sent. */
  rateLimitWait(method: LimitedMethod, seconds: number): void;
}

export interface TransportDeps {
  /** With several instances, the limiter they share: a call takes its permit before its slot in the answer windows. */
  limiter?: Limiter | undefined;
  retry: RetryPolicy;
  logger: Logger;
  invalidateToken: () => void;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Aborted when the bot stops: no attempt starts after it, and no wait (retry delay, rate limit) goes on. */
  stopping?: AbortSignal;
  observer?: FeishuObserver;
}

interface FeishuAnswer {
  code?: number;
  msg?: string;
}

export class Transport {
  private readonly sleep: (ms: number) => Promise<void>;
  /** Holds each limited call's place in Feishu's windows until a window after its answer: the process's limits. */
  private readonly answerWindows: AnswerWindows;

  constructor(private readonly deps: TransportDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.answerWindows = new AnswerWindows(deps.retry.maxWaitMs);
  }

  async call<T>(spec: CallSpec<T>): Promise<T> {
    const { retry, logger, stopping, observer } = this.deps;
    const attempts = spec.attempts ?? retry.attempts;
    let tokenRefreshed = false;
    let refusedUnderLimit = false;
    for (let attempt = 1; ; attempt++) {
      if (stopping?.aborted) throw stoppingError(spec.name);
      let error: FeishuApiError | FeishuNetworkError;
      let sentAt: number | undefined;
      let hold: CallHold | undefined;
      try {
        if (spec.limit) {
          const pacedMs = (await this.deps.limiter?.acquire(spec.limit.method, spec.limit.keys, stopping, { afterRefusal: refusedUnderLimit })) ?? 0;
          // After the fleet's permit, so a slot is held from the send, not through the wait for the fleet's pace: a call
          // the slots hold back goes later than its permit, never earlier, and they bound Feishu's windows however late.
          hold = await this.answerWindows.hold(spec.limit.method, spec.limit.keys, stopping);
          // Only time a limit held the call back: the fleet's permit costs a round trip to the database every time.
          const waitedMs = pacedMs + hold.queuedMs;
          if (waitedMs > 0) observer?.rateLimitWait(spec.limit.method, waitedMs / 1000);
        }
        sentAt = performance.now();
        const answer = await spec.run();
        const code = (answer as FeishuAnswer | undefined)?.code ?? 0;
        hold?.release(meaningOf(code).rateLimited !== true);
        observer?.attempt(spec.name, String(code), (performance.now() - sentAt) / 1000);
        if (code === 0) return answer;
        error = new FeishuApiError(spec.name, code, (answer as FeishuAnswer).msg ?? '', 200);
      } catch (thrown) {
        if (thrown instanceof RateLimitWaitTooLong) {
          hold?.release(false);
          throw new FeishuGaveUpError(spec.name, new FeishuNetworkError(spec.name, thrown.message), thrown.message);
        }
        error = normalise(spec.name, thrown);
        hold?.release(sentAt !== undefined && !isRateLimitRefusal(error));
        if (stopping?.aborted) throw stoppingError(spec.name);
        if (sentAt !== undefined) {
          observer?.attempt(spec.name, error instanceof FeishuApiError ? String(error.feishuCode) : 'network', (performance.now() - sentAt) / 1000);
        }
      }
      refusedUnderLimit = isRateLimitRefusal(error);

      const meaning = error instanceof FeishuApiError ? meaningOf(error.feishuCode) : undefined;
      logger.warn({ method: spec.name, attempt, ...describe(error) }, 'feishu call failed');
      if (meaning?.refreshToken && !tokenRefreshed) {
        tokenRefreshed = true;
        this.deps.invalidateToken();
        continue;
      }
      if (!isTransient(error)) throw error;
      if (attempt >= attempts) throw new FeishuGaveUpError(spec.name, error, `${attempt} attempt${attempt === 1 ? '' : 's'} failed`);
      const delay = this.delayBefore(attempt, error);
      if (delay > retry.maxWaitMs) {
        throw new FeishuGaveUpError(spec.name, error, `Feishu asked for a ${Math.round(delay / 1000)} s wait`);
      }
      await unlessStopped(this.sleep(delay), stopping, () => stoppingError(spec.name));
    }
  }

  /** Forgets the answer windows of chats and messages with no call in them. */
  sweep(): void {
    this.answerWindows.sweep();
  }

  private delayBefore(attempt: number, error: FeishuApiError | FeishuNetworkError): number {
    const { baseDelayMs, maxDelayMs } = this.deps.retry;
    if (error instanceof FeishuApiError && error.resetSeconds !== undefined) return error.resetSeconds * 1000;
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return backoff / 2 + Math.random() * (backoff / 2);
  }
}

/** Feishu refused the call under one of its rate limits, so it did not count it. */
function isRateLimitRefusal(error: FeishuApiError | FeishuNetworkError): boolean {
  return error instanceof FeishuApiError && meaningOf(error.feishuCode).rateLimited === true;
}

/** What a log line may say about a failure: codes and Feishu's log id, never a request or response body. */
function describe(error: FeishuApiError | FeishuNetworkError) {
  return error instanceof FeishuApiError ? { feishuCode: error.feishuCode, status: error.httpStatus, logId: error.logId, err: error } : { err: error };
}

/** axios's own test, without loading axios at start-up (the SDK brings it on first use). */
function isAxiosError(thrown: unknown): thrown is AxiosError {
  return typeof thrown === 'object' && thrown !== null && (thrown as { isAxiosError?: unknown }).isAxiosError === true;
}

function normalise(method: string, thrown: unknown): FeishuApiError | FeishuNetworkError {
  if (isAxiosError(thrown)) {
    const response = thrown.response;
    if (!response) return new FeishuNetworkError(method, thrown.code ?? thrown.message);
    const data = (response.data ?? {}) as FeishuAnswer;
    const headers = response.headers as Record<string, string | undefined>;
    const reset = Number(headers['x-ogw-ratelimit-reset']);
    return new FeishuApiError(
      method,
      typeof data.code === 'number' ? data.code : response.status,
      typeof data.msg === 'string' ? data.msg : response.statusText,
      response.status,
      headers['x-tt-logid'],
      Number.isFinite(reset) && reset >= 0 ? reset : undefined,
    );
  }
  if (thrown instanceof FeishuApiError || thrown instanceof FeishuNetworkError) return thrown;
  // The SDK's token fetch throws a plain Error carrying Feishu's code in its text when the answer had no token.
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  const code = /code[^0-9]{0,4}(\d{4,})/i.exec(text)?.[1];
  return code ? new FeishuApiError(method, Number(code), text, 200) : new FeishuNetworkError(method, text);
}
