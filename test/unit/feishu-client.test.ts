import { describe, expect, it } from 'vitest';
import { FEISHU_SENTENCES, feishuSentence, sayFailure } from '../../src/bot/feishu-sentences';
import { AnswerWindows } from '../../src/feishu/answer-windows';
import { chatLink } from '../../src/feishu/app-links';
import { FEISHU_CODES, meaningOf } from '../../src/feishu/error-codes';
import { FeishuApiError, FeishuGaveUpError, FeishuNetworkError, isTransient } from '../../src/feishu/errors';
import { FleetRateLimiter } from '../../src/feishu/fleet-rate-limiter';
import { RateLimitWaitTooLong } from '../../src/feishu/rate-limits';
import { DEFAULT_RETRY, Transport } from '../../src/feishu/transport';
import { t } from '../../src/i18n';
import { createLogger } from '../../src/log';
import type { Permit } from '../../src/shared-limits';

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

  it('promises no further try for a transient failure: a person hears of one only when its job has given up', () => {
    const transient = [
      new FeishuNetworkError('m', 'ECONNRESET'),
      ...Object.entries(FEISHU_CODES)
        .filter(([, meaning]) => meaning.retry)
        .map(([code]) => new FeishuApiError('m', Number(code), '', 400)),
    ];
    for (const error of transient) {
      const say = sayFailure(error, 'notice.internalError');
      expect(t('en_us', say), say).not.toMatch(/\bwill\b|shortly/i);
      expect(t('zh_cn', say), say).not.toMatch(/会继续|稍后/);
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

  it('ends a wait for a rate-limit slot at once', async () => {
    const answerWindows = new AnswerWindows(120_000, { 'message.send': [{ scope: 'chat', cap: 1, perMs: 60_000 }] });
    (await answerWindows.hold('message.send', { chatId: 'c' })).release(true);
    const stopping = new AbortController();
    const waiting = answerWindows.hold('message.send', { chatId: 'c' }, stopping.signal).catch((e: unknown) => e);
    stopping.abort();
    expect(await waiting).toBeInstanceOf(Error);
  });
});

describe('rate limits in the transport', () => {
  const silent = createLogger('silent');
  const sendTo = (transport: Transport, run: () => Promise<unknown>) =>
    transport.call({ name: 'im.v1.message.create', limit: { method: 'message.send', keys: { chatId: 'c' } }, run });

  it('reports each wait for a slot that was not instant, for the metrics', async () => {
    const waits: Array<[string, number]> = [];
    const transport = new Transport({
      retry: DEFAULT_RETRY,
      logger: silent,
      invalidateToken: () => undefined,
      observer: { attempt: () => undefined, rateLimitWait: (method, seconds) => waits.push([method, seconds]) },
    });
    // Feishu's 5 a second in one chat: the sixth waits for a window after the first one's answer.
    await Promise.all(Array.from({ length: 6 }, () => sendTo(transport, async () => ({ code: 0 }))));
    expect(waits).toHaveLength(1);
    expect(waits[0]?.[0]).toBe('message.send');
    expect(waits[0]?.[1]).toBeGreaterThan(0.9);
  });

  it("reports the fleet's pace as a wait, and not the round trip that takes a permit due at once", async () => {
    const waits: number[] = [];
    const heldBack = [0, 0, 250];
    const transport = new Transport({
      limiter: {
        // Each permit takes a round trip to the database; the third was held back 250 ms for the fleet's pace.
        acquire: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return heldBack.shift() ?? 0;
        },
        sweep: () => undefined,
      },
      retry: DEFAULT_RETRY,
      logger: silent,
      invalidateToken: () => undefined,
      observer: { attempt: () => undefined, rateLimitWait: (_method, seconds) => waits.push(seconds) },
    });
    for (let i = 0; i < 3; i++) await sendTo(transport, async () => ({ code: 0 }));
    expect(waits).toEqual([0.25]);
  });

  it("says how long the fleet's limiter held a call back for its permit's time, not the round trip that took it", async () => {
    const permits: Permit[] = [0, 120].map((waitMs) => ({ at: Date.now(), waitMs, dueBy: 0 }));
    const limiter = new FleetRateLimiter(
      {
        reservePermit: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          const permit = permits.shift() as Permit;
          return { granted: true, permit: { ...permit, dueBy: performance.now() + permit.waitMs } };
        },
        sweepPermits: async () => undefined,
      },
      60_000,
    );
    expect(await limiter.acquire('message.send', { chatId: 'c' })).toBe(0);
    expect(await limiter.acquire('message.send', { chatId: 'c' })).toBeGreaterThanOrEqual(119);
  });

  it('frees the slot of a call Feishu refused under a limit, and its retry keeps its per-minute permit of the fleet', async () => {
    const asked: Array<boolean | undefined> = [];
    const transport = new Transport({
      limiter: {
        acquire: async (_method, _keys, _signal, options) => {
          asked.push(options?.afterRefusal);
          return 0;
        },
        sweep: () => undefined,
      },
      retry: DEFAULT_RETRY,
      logger: silent,
      invalidateToken: () => undefined,
      sleep: async () => undefined,
    });
    // Five calls fill the chat's second; each is refused (Feishu did not count it) and retried at once.
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => {
        const tries = [{ code: 230020, msg: 'This operation triggers the frequency limit.' }, { code: 0 }];
        return sendTo(transport, async () => tries.shift());
      }),
    );
    expect(answers).toEqual(Array(5).fill({ code: 0 }));
    expect(performance.now() - started).toBeLessThan(500);
    expect(asked.filter((afterRefusal) => afterRefusal === true)).toHaveLength(5);
    expect(asked.filter((afterRefusal) => !afterRefusal)).toHaveLength(5);
  });
});

describe('the answer windows', () => {
  const limit = { scope: 'chat' as const, cap: 5, perMs: 200 };
  const windows = (maxWaitMs = 30_000) => new AnswerWindows(maxWaitMs, { 'message.send': [limit] });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('never lets Feishu count more than the limit in any window, however late each call reaches it', async () => {
    const answerWindows = windows();
    const counted: number[] = [];
    // Each call reaches "Feishu" at a random moment between being sent and its answer, as a loaded machine delays it.
    const call = async () => {
      const hold = await answerWindows.hold('message.send', { chatId: 'c' });
      await sleep(Math.random() * 60);
      counted.push(performance.now());
      await sleep(Math.random() * 60);
      hold.release(true);
    };
    await Promise.all(Array.from({ length: 40 }, call));
    const mostInAnyWindow = Math.max(...counted.map((at) => counted.filter((t) => t > at - limit.perMs && t <= at).length));
    expect(mostInAnyWindow).toBeLessThanOrEqual(limit.cap);
  });

  it('frees the slot of a call that was not counted (refused under a limit, or never sent) at once', async () => {
    const answerWindows = new AnswerWindows(30_000, { 'message.send': [{ scope: 'chat', cap: 1, perMs: 60_000 }] });
    const started = performance.now();
    for (let i = 0; i < 3; i++) (await answerWindows.hold('message.send', { chatId: 'c' })).release(false);
    expect(performance.now() - started).toBeLessThan(1_000);
    (await answerWindows.hold('message.send', { chatId: 'c' })).release(true);
    const next = answerWindows.hold('message.send', { chatId: 'c' }).then(() => 'held');
    expect(await Promise.race([next, sleep(100).then(() => 'still waiting')])).toBe('still waiting');
  });

  it('refuses a wait longer than the bound, and keeps chats apart', async () => {
    const answerWindows = windows(100);
    for (let i = 0; i < limit.cap * 2; i++) void answerWindows.hold('message.send', { chatId: 'busy' });
    await expect(answerWindows.hold('message.send', { chatId: 'busy' })).rejects.toBeInstanceOf(RateLimitWaitTooLong);
    await expect(answerWindows.hold('message.send', { chatId: 'quiet' })).resolves.toBeDefined();
  });
});

describe('the link back to a group', () => {
  it('opens the chat through the AppLink host of the client the tenant uses: Lark’s for a Lark domain', () => {
    expect(chatLink('oc_1', 'https://open.feishu.cn')).toBe('https://applink.feishu.cn/client/chat/open?openChatId=oc_1');
    expect(chatLink('oc_1', 'https://open.larksuite.com')).toBe('https://applink.larksuite.com/client/chat/open?openChatId=oc_1');
    expect(chatLink('oc_1', 'http://127.0.0.1:4000')).toBe('https://applink.feishu.cn/client/chat/open?openChatId=oc_1');
  });
});
