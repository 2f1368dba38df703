import { describe, expect, it } from 'vitest';
import { FEISHU_SENTENCES, feishuSentence } from '../../src/bot/feishu-sentences';
import { FEISHU_CODES, meaningOf } from '../../src/feishu/error-codes';
import { FeishuApiError, FeishuGaveUpError, FeishuNetworkError, isTransient } from '../../src/feishu/errors';
import { RateLimitWaitTooLong, RateLimiter, burstFor } from '../../src/feishu/rate-limits';
import { DEFAULT_RETRY, Transport } from '../../src/feishu/transport';
import { t } from '../../src/i18n';
import { createLogger } from '../../src/log';

describe('the error-code table', () => {
  it('gives every code a sentence in each language, and no code is both retried and done', () => {
    for (const [code, say] of Object.entries(FEISHU_SENTENCES)) {
      expect(t('en_us', say), String(code)).toMatch(/^[A-Z].*[.!]$/);
      expect(t('zh_cn', say), String(code)).toMatch(/^\p{Script=Han}.*。$/u);
    }
    for (const [code, meaning] of Object.entries(FEISHU_CODES)) {
      expect(FEISHU_SENTENCES[Number(code)], String(code)).toBeDefined();
      expect(meaning.retry && meaning.done, String(code)).toBeFalsy();
    }
  });

  it('knows what to do with the codes the client acts on', () => {
    expect(meaningOf(99991400).retry).toBe(true);
    expect(meaningOf(230020).retry).toBe(true);
    expect(meaningOf(18051).done).toBe(true);
    expect(meaningOf(230110).done).toBe(true);
    expect(meaningOf(99991663).refreshToken).toBe(true);
    expect(meaningOf(230026).retry).toBeUndefined();
    expect(t('en_us', feishuSentence(123))).toBe('Feishu refused the request.');
    expect(t('zh_cn', feishuSentence(123))).toBe('飞书拒绝了这个请求。');
  });

  it('calls network trouble, 5xx, 429 and limit codes transient, and refusals not', () => {
    expect(isTransient(new FeishuNetworkError('m', 'ECONNRESET'))).toBe(true);
    expect(isTransient(new FeishuApiError('m', 1, '', 503))).toBe(true);
    expect(isTransient(new FeishuApiError('m', 99991400, '', 429))).toBe(true);
    expect(isTransient(new FeishuApiError('m', 230020, '', 400))).toBe(true);
    expect(isTransient(new FeishuApiError('m', 230026, '', 400))).toBe(false);
    expect(isTransient(new Error('bug'))).toBe(false);
  });
});

describe('the transport', () => {
  const silent = createLogger('silent');
  const transport = (sleeps: number[], invalidations: { n: number }) =>
    new Transport({
      limiter: new RateLimiter(30_000),
      retry: { ...DEFAULT_RETRY, baseDelayMs: 10, maxDelayMs: 40 },
      logger: silent,
      invalidateToken: () => invalidations.n++,
      sleep: async (ms) => void sleeps.push(ms),
    });
  const answers = (...list: Array<unknown | (() => never)>) => {
    let i = 0;
    return async () => {
      const next = list[i++];
      if (typeof next === 'function') return (next as () => never)();
      return next;
    };
  };

  it('retries a limit code, honouring the reset Feishu names, then returns the answer', async () => {
    const sleeps: number[] = [];
    const rateLimited = Object.assign(new Error('429'), {
      isAxiosError: true,
      response: { status: 429, statusText: 'Too Many', data: { code: 99991400, msg: 'limit' }, headers: { 'x-ogw-ratelimit-reset': '2', 'x-tt-logid': 'L' } },
    });
    const result = await transport(sleeps, { n: 0 }).call({
      name: 't',
      run: answers(
        () => {
          throw rateLimited;
        },
        { code: 0, data: 1 },
      ),
    });
    expect(result).toEqual({ code: 0, data: 1 });
    expect(sleeps).toEqual([2_000]);
  });

  it('fails with a clear reason when Feishu asks for a wait longer than allowed', async () => {
    const tooLong = Object.assign(new Error('429'), {
      isAxiosError: true,
      response: { status: 429, statusText: '', data: { code: 99991400, msg: 'limit' }, headers: { 'x-ogw-ratelimit-reset': '120' } },
    });
    const error = await transport([], { n: 0 })
      .call({
        name: 'send',
        run: answers(() => {
          throw tooLong;
        }),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeishuGaveUpError);
    expect((error as Error).message).toMatch(/send gave up: Feishu asked for a 120 s wait/);
  });

  it('turns HTTP 200 with a code into an error, and does not retry a refusal', async () => {
    const error = await transport([], { n: 0 })
      .call({ name: 'recall', run: answers({ code: 230026, msg: 'no' }, { code: 0 }) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'FeishuApiError', feishuCode: 230026, httpStatus: 200 });
  });

  it('refreshes a refused token once, then gives the refusal up', async () => {
    const invalidations = { n: 0 };
    const error = await transport([], invalidations)
      .call({ name: 'x', run: answers({ code: 99991663, msg: 'bad token' }, { code: 99991663, msg: 'bad token' }) })
      .catch((e: unknown) => e);
    expect(invalidations.n).toBe(1);
    expect(error).toMatchObject({ feishuCode: 99991663 });
  });

  it('gives up after the attempts run out, keeping the last error', async () => {
    const sleeps: number[] = [];
    const error = await transport(sleeps, { n: 0 })
      .call({ name: 'x', run: async () => ({ code: 230020, msg: 'busy' }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeishuGaveUpError);
    expect((error as FeishuGaveUpError).last).toMatchObject({ feishuCode: 230020 });
    expect(sleeps).toHaveLength(DEFAULT_RETRY.attempts - 1);
  });

  it('tries a call that asks for fewer attempts only that often', async () => {
    const sleeps: number[] = [];
    let tries = 0;
    const run = async () => {
      tries++;
      return { code: 230020, msg: 'busy' };
    };
    const error = await transport(sleeps, { n: 0 })
      .call({ name: 'hint', attempts: 2, run })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeishuGaveUpError);
    expect(tries).toBe(2);
  });
});

describe('stopping', () => {
  const silent = createLogger('silent');

  it('ends a retry delay at once, with a transient failure that leaves the job pending', async () => {
    const stopping = new AbortController();
    const transport = new Transport({
      limiter: new RateLimiter(30_000),
      // A minute between attempts: only the stop can end this call within the test's time.
      retry: { ...DEFAULT_RETRY, baseDelayMs: 60_000, maxDelayMs: 60_000, maxWaitMs: 120_000 },
      logger: silent,
      invalidateToken: () => undefined,
      stopping: stopping.signal,
    });
    let attempts = 0;
    const call = transport.call({ name: 'im.v1.message.create', run: async () => ({ code: 230020, msg: `busy ${++attempts}` }) }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    stopping.abort();
    const error = await call;
    expect(error).toBeInstanceOf(FeishuNetworkError);
    expect((error as Error).message).toMatch(/the bot is stopping/);
    expect(isTransient(error)).toBe(true);
    expect(attempts).toBe(1);
  });

  it('ends a wait for a rate-limit permit at once', async () => {
    const limiter = new RateLimiter(120_000, { 'message.send': [{ scope: 'chat', cap: 1, perMs: 60_000 }] });
    await limiter.acquire('message.send', { chatId: 'c' });
    const stopping = new AbortController();
    const waiting = limiter.acquire('message.send', { chatId: 'c' }, stopping.signal).catch((e: unknown) => e);
    stopping.abort();
    expect(await waiting).toBeInstanceOf(Error);
  });
});

describe('the rate limiter', () => {
  const oneChatLimit = (cap: number) => ({ 'message.send': [{ scope: 'chat' as const, cap, perMs: 1000 }] });

  it('never grants more than the limit inside any rolling window, in small bursts', async () => {
    const limit = { scope: 'chat' as const, cap: 40, perMs: 400 };
    expect(burstFor(limit)).toBe(3);
    const limiter = new RateLimiter(30_000, { 'message.send': [limit] });
    const granted: number[] = [];
    await Promise.all(Array.from({ length: 60 }, () => limiter.acquire('message.send', { chatId: 'c' }).then(() => granted.push(performance.now()))));
    const mostInAnyWindow = Math.max(...granted.map((start) => granted.filter((t) => t >= start && t < start + limit.perMs).length));
    // One call of the limit is always left as margin for a request that travels late.
    expect(mostInAnyWindow).toBeLessThanOrEqual(limit.cap - 1);
  });

  it('chooses the largest burst whose windows still fit the limit', () => {
    expect([5, 10, 40, 50].map((cap) => burstFor({ scope: 'app', cap, perMs: 1000 }))).toEqual([1, 1, 3, 4]);
  });

  it('keeps chats apart: one chat’s queue does not hold up another’s', async () => {
    const limiter = new RateLimiter(30_000, oneChatLimit(1));
    const order: string[] = [];
    await Promise.all([
      limiter.acquire('message.send', { chatId: 'a' }).then(() => order.push('a1')),
      limiter.acquire('message.send', { chatId: 'a' }).then(() => order.push('a2')),
      limiter.acquire('message.send', { chatId: 'b' }).then(() => order.push('b1')),
    ]);
    expect(order.indexOf('b1')).toBeLessThan(order.indexOf('a2'));
  });

  it('reports each wait for a permit that was not instant, for the metrics', async () => {
    const waits: Array<[string, number]> = [];
    const transport = new Transport({
      limiter: new RateLimiter(30_000, { 'message.send': [{ scope: 'chat', cap: 1, perMs: 100 }] }),
      retry: DEFAULT_RETRY,
      logger: createLogger('silent'),
      invalidateToken: () => undefined,
      observer: { attempt: () => undefined, rateLimitWait: (method, seconds) => waits.push([method, seconds]) },
    });
    const call = () =>
      transport.call({ name: 'im.v1.message.create', limit: { method: 'message.send', keys: { chatId: 'c' } }, run: async () => ({ code: 0 }) });
    await Promise.all([call(), call()]);
    expect(waits).toHaveLength(1);
    expect(waits[0]?.[0]).toBe('message.send');
    expect(waits[0]?.[1]).toBeGreaterThan(0);
  });

  it('refuses a wait longer than the bound instead of queueing forever', async () => {
    const limiter = new RateLimiter(100, oneChatLimit(1));
    const results = await Promise.all(Array.from({ length: 3 }, () => limiter.acquire('message.send', { chatId: 'c' }).catch((e: unknown) => e)));
    expect(results.filter((r) => r instanceof RateLimitWaitTooLong)).toHaveLength(1);
  });
});
