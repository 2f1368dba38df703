import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cardActionEvent, encryptPayload, messageEvent, signPush, urlChallenge } from '../../emulator';
import { EVENT_MAX_AGE_MS } from '../../src/feishu/verify';
import { type Harness, SECRETS, startHarness } from '../e2e/harness';
import { figure, gcFunction, heapAfterGc, pool, visibleForms, waitFor } from './support';

/**
 * 2,000 generated and mutated bodies at both webhook routes. Every answer is a 4xx or a correct 200, never a 5xx;
 * the bot neither crashes nor grows; and nothing that was refused causes a single call to Feishu.
 *
 * Two phases. Phase A sends only what cannot be a valid push (no key, a wrong key or token, broken signatures,
 * bytes that are not the envelope, bodies over the limit): all must be refused and Feishu must see no call at all.
 * Phase B sends pushes that carry the right key and token, so some of them are valid and make the bot call
 * Feishu: random events, wrong types inside valid envelopes, garbage plaintexts, huge fields. Every id in push k
 * is tagged `_fz_<k>`, so each outbound call can be traced to the push that caused it; a refused push must have
 * caused none.
 */

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PHASE_A = 1_400;
const PHASE_B = 600;
const BODY_LIMIT = 1024 * 1024;
const ROUTES = ['/webhook/event', '/webhook/card'] as const;
const KEY = SECRETS.encryptKey;
const TOKEN = SECRETS.verificationToken;
const EVENT_MAX_AGE_S = EVENT_MAX_AGE_MS / 1000;
/**
 * A push signed ahead of the window is refused only if it is still ahead when it arrives. A body is built the moment
 * before it is sent, but on a loaded machine it can arrive a second or more later (one signed 301 s ahead, its second
 * rounded down, was once accepted); so a future timestamp here is a minute further ahead. The window's edge itself is
 * tested on a fixed clock (test/unit/verify.test.ts).
 */
const ARRIVAL_MARGIN_S = 60;

interface Wire {
  route: (typeof ROUTES)[number];
  method?: string;
  body: string | Uint8Array;
  headers: Record<string, string>;
}

interface Case {
  kind: string;
  build(k: number): Wire;
  /** For a URL challenge: the one correct 200 answer. */
  challenge?: string;
}

let h: Harness | undefined;
afterAll(async () => {
  await h?.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// Building blocks

function signedHeaders(rawBody: string, opts: { key?: string; timestamp?: string | undefined; nonce?: string } = {}): Record<string, string> {
  const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? randomBytes(8).toString('hex');
  return {
    'content-type': 'application/json; charset=utf-8',
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': signPush({ timestamp, nonce, encryptKey: opts.key ?? KEY, rawBody }),
  };
}

/** Encrypted with `key` and signed with it: exactly how Feishu sends `plaintext`. */
function sealed(plaintext: string, key = KEY): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ encrypt: encryptPayload(plaintext, key) });
  return { body, headers: signedHeaders(body, { key }) };
}

const route = fc.constantFrom(...ROUTES);

const tagged = (k: number) => ({ sender: `ou_fz_${k}`, chat: `oc_fz_${k}`, message: `om_fz_${k}`, event: `ev_fz_${k}` });

const commandText = fc.oneof(
  fc.constantFrom('/todo', '/help', '/todos', '/recall', '/nope', '', 'hello', '/todo buy milk', '/TODO x', '/todo <at id=all></at>'),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => `/todo ${s}`),
);

/** A well-formed message event from push k (valid: the bot may act on it). */
const messageRecipe = fc.record({ text: commandText, mention: fc.boolean(), p2p: fc.boolean() }).map(({ text, mention, p2p }) => (k: number) => {
  const id = tagged(k);
  return messageEvent({
    token: TOKEN,
    senderId: id.sender,
    chatId: id.chat,
    chatType: p2p ? 'p2p' : 'group',
    messageId: id.message,
    eventId: id.event,
    text: mention ? `@_user_1 ${text}` : text,
    mentions: mention ? [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }] : [],
  }) as Record<string, unknown>;
});

/** A well-formed card click from push k, with anything at all as its value and form. */
const cardRecipe = fc
  .record({
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record(
        {
          action: fc.constantFrom('todo.submit', 'todo.cancel', 'todo.done', 'todo.reopen', 'todo.snooze', 'x'),
          formId: fc.string({ maxLength: 20 }),
          todoId: fc.string({ maxLength: 20 }),
        },
        { requiredKeys: ['action'] },
      ),
    ),
    formValue: fc.option(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }), { nil: undefined }),
    timezone: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
  })
  .map(({ value, formValue, timezone }) => (k: number) => {
    const id = tagged(k);
    return cardActionEvent({
      token: TOKEN,
      operatorId: id.sender,
      chatId: id.chat,
      messageId: id.message,
      eventId: id.event,
      value: value as Record<string, unknown>,
      formValue: formValue as Record<string, unknown> | undefined,
      timezone,
    }) as Record<string, unknown>;
  });

const eventRecipe = fc.oneof(messageRecipe, cardRecipe);

/** Every path in a JSON object, inner nodes included. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Object.entries(value as Record<string, unknown>);
  return [prefix, ...entries.flatMap(([key, child]) => pathsOf(child, [...prefix, key]))].filter((p) => p.length > 0);
}

function setAt(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node[key];
  const last = path[path.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** A value of another type than any field of an event holds where it is put (strings become non-strings). */
const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

// ---------------------------------------------------------------------------------------------------------------
// Phase A: nothing here can be a valid push.

const invalidCases: fc.Arbitrary<Case> = fc.oneof(
  // Random JSON, unsigned and unencrypted.
  fc.record({ r: route, v: fc.jsonValue({ maxDepth: 4 }) }).map(({ r, v }) => ({
    kind: 'random JSON',
    build: () => ({ route: r, body: JSON.stringify(v), headers: { 'content-type': 'application/json' } }),
  })),
  // Random bytes.
  fc.record({ r: route, b: fc.uint8Array({ maxLength: 2_000 }) }).map(({ r, b }) => ({
    kind: 'random bytes',
    build: () => ({ route: r, body: b, headers: { 'content-type': 'application/json' } }),
  })),
  // Random JSON with random signature headers.
  fc
    .record({
      r: route,
      v: fc.jsonValue({ maxDepth: 3 }),
      ts: fc.string({ maxLength: 15 }),
      nonce: fc.string({ maxLength: 20 }),
      sig: fc.string({ maxLength: 70 }),
    })
    .map(({ r, v, ts, nonce, sig }) => ({
      kind: 'random JSON, random signature headers',
      build: () => ({ route: r, body: JSON.stringify(v), headers: { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': sig } }),
    })),
  // A signed, encrypted valid push, truncated.
  fc.record({ r: route, e: eventRecipe, cut: fc.double({ min: 0, max: 0.999, noNaN: true }) }).map(({ r, e, cut }) => ({
    kind: 'signed push, truncated',
    build: (k: number) => {
      const { body, headers } = sealed(JSON.stringify(e(k)));
      return { route: r, body: body.slice(0, Math.floor(body.length * cut)), headers };
    },
  })),
  // A signed, encrypted valid push with one byte changed (the signature no longer matches, or it no longer parses).
  fc
    .record({ r: route, e: eventRecipe, at: fc.double({ min: 0, max: 0.999, noNaN: true }), delta: fc.integer({ min: 1, max: 255 }) })
    .map(({ r, e, at, delta }) => ({
      kind: 'signed push, one byte flipped',
      build: (k: number) => {
        const { body, headers } = sealed(JSON.stringify(e(k)));
        const bytes = Buffer.from(body, 'utf8');
        const index = Math.floor(bytes.length * at);
        bytes[index] = ((bytes[index] as number) + delta) % 256;
        return { route: r, body: new Uint8Array(bytes), headers };
      },
    })),
  // A valid body under wrong headers.
  fc
    .record({
      r: route,
      e: eventRecipe,
      how: fc.constantFrom(
        'no timestamp',
        'no nonce',
        'no signature',
        'stale',
        'future',
        'timestamp not a number',
        'other nonce',
        'random signature',
        'short signature',
        'other key',
        'unencrypted',
      ),
      skew: fc.integer({ min: 301, max: 10 ** 9 }),
      sig: fc.stringMatching(/^[0-9a-f]{64}$/),
    })
    .map(({ r, e, how, skew, sig }) => ({
      kind: `wrong headers: ${how}`,
      build: (k: number) => {
        const plaintext = JSON.stringify(e(k));
        if (how === 'other key') return { route: r, ...sealed(plaintext, 'not-the-encrypt-key') };
        if (how === 'unencrypted') return { route: r, body: plaintext, headers: { 'content-type': 'application/json' } };
        const { body } = sealed(plaintext);
        const now = Math.floor(Date.now() / 1000);
        const headers = signedHeaders(body, {
          // Events may be up to 8 h old (Feishu retries them for hours): stale means older than that for any push.
          timestamp:
            how === 'stale'
              ? String(now - EVENT_MAX_AGE_S - skew)
              : how === 'future'
                ? String(now + skew + ARRIVAL_MARGIN_S)
                : how === 'timestamp not a number'
                  ? `${now}abc`
                  : undefined,
        });
        if (how === 'no timestamp') delete headers['x-lark-request-timestamp'];
        if (how === 'no nonce') delete headers['x-lark-request-nonce'];
        if (how === 'no signature') delete headers['x-lark-signature'];
        if (how === 'other nonce') headers['x-lark-request-nonce'] = `${headers['x-lark-request-nonce']}0`;
        if (how === 'random signature') headers['x-lark-signature'] = sig;
        if (how === 'short signature') headers['x-lark-signature'] = (headers['x-lark-signature'] as string).slice(0, 63);
        // A stale timestamp that is signed is still refused: 300 s ahead, 8 h behind.
        if (how === 'stale' || how === 'future' || how === 'timestamp not a number') {
          const ts = headers['x-lark-request-timestamp'] as string;
          headers['x-lark-signature'] = signPush({ timestamp: ts, nonce: headers['x-lark-request-nonce'] as string, encryptKey: KEY, rawBody: body });
        }
        return { route: r, body, headers };
      },
    })),
  // A valid event with the wrong verification token, properly encrypted and signed.
  fc.record({ r: route, e: eventRecipe, token: fc.string({ maxLength: 40 }) }).map(({ r, e, token }) => ({
    kind: 'wrong verification token',
    build: (k: number) => {
      const payload = e(k);
      (payload.header as Record<string, unknown>).token = token === TOKEN ? `${token}x` : token;
      return { route: r, ...sealed(JSON.stringify(payload)) };
    },
  })),
  // Valid signature and encryption over garbage: not JSON, or JSON that carries no token.
  fc
    .record({
      r: route,
      text: fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      ),
    })
    .map(({ r, text }) => ({
      kind: 'sealed garbage without the token',
      build: () => {
        const tokenless = text.includes(TOKEN) ? text.replaceAll(TOKEN, '') : text;
        return { route: r, ...sealed(tokenless) };
      },
    })),
  // A URL challenge with a wrong token.
  fc.record({ r: route, challenge: fc.string({ maxLength: 40 }), token: fc.string({ maxLength: 40 }) }).map(({ r, challenge, token }) => ({
    kind: 'URL challenge, wrong token',
    build: () => ({ route: r, ...sealed(JSON.stringify(urlChallenge({ token: token === TOKEN ? 'x' : token, challenge }))) }),
  })),
  // Bodies over the limit (rare: each is a megabyte on the wire).
  fc.record({ r: route, extra: fc.integer({ min: 1, max: 200_000 }) }).map(({ r, extra }) => ({
    kind: 'body over the limit',
    build: () => ({ route: r, body: JSON.stringify({ encrypt: 'A'.repeat(BODY_LIMIT + extra) }), headers: { 'content-type': 'application/json' } }),
  })),
  // A header too large for Node's parser, and the wrong method.
  fc.record({ r: route, size: fc.integer({ min: 20_000, max: 40_000 }) }).map(({ r, size }) => ({
    kind: 'huge header',
    build: () => ({ route: r, body: '{}', headers: { 'x-lark-signature': 'f'.repeat(size) } }),
  })),
  fc.record({ r: route, method: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH') }).map(({ r, method }) => ({
    kind: 'wrong method',
    build: () => ({ route: r, method, body: method === 'GET' ? '' : '{}', headers: {} }),
  })),
);

// ---------------------------------------------------------------------------------------------------------------
// Phase B: the right key and token; valid, wrong-typed, garbage or huge inside.

const keyedCases: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({ r: route, e: eventRecipe })
      .map(({ r, e }) => ({ kind: 'valid event', build: (k: number) => ({ route: r, ...sealed(JSON.stringify(e(k))) }) })),
  },
  {
    weight: 5,
    arbitrary: fc.record({ r: route, e: eventRecipe, pick: fc.nat(), value: wrongValue }).map(({ r, e, pick, value }) => ({
      kind: 'wrong type inside a valid envelope',
      build: (k: number) => {
        const payload = e(k);
        const paths = pathsOf(payload).filter((p) => p.join('.') !== 'header.token');
        const path = paths[pick % paths.length] as string[];
        setAt(payload, path, value);
        return { route: r, ...sealed(JSON.stringify(payload)) };
      },
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        r: route,
        e: messageRecipe,
        content: fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
        ),
      })
      .map(({ r, e, content }) => ({
        kind: 'garbage message content',
        build: (k: number) => {
          const payload = e(k) as any;
          payload.event.message.content = content;
          return { route: r, ...sealed(JSON.stringify(payload)) };
        },
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        r: route,
        v: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        schema: fc.constantFrom('2.0', '1.0', 2, undefined),
        eventType: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('im.message.receive_v1', 'card.action.trigger', 'im.chat.disbanded_v1')),
      })
      .map(({ r, v, schema, eventType }) => ({
        kind: 'sealed garbage with the token',
        build: (k: number) => ({
          route: r,
          ...sealed(
            JSON.stringify({
              ...v,
              ...(schema !== undefined && { schema }),
              header: { token: TOKEN, event_id: tagged(k).event, event_type: eventType },
              event: v,
            }),
          ),
        }),
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ r: route, e: messageRecipe, size: fc.integer({ min: 10_000, max: 300_000 }), ch: fc.constantFrom('a', '字', '<', '"', '\\', '\u0000') })
      .map(({ r, e, size, ch }) => ({
        kind: 'huge field',
        build: (k: number) => {
          const payload = e(k) as any;
          payload.event.message.content = JSON.stringify({ text: `@_user_1 /todo ${ch.repeat(size)}` });
          return { route: r, ...sealed(JSON.stringify(payload)) };
        },
      })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ r: route, challenge: fc.string({ minLength: 1, maxLength: 60 }) }).map(({ r, challenge }) => ({
      kind: 'URL challenge',
      challenge,
      build: () => {
        const body = JSON.stringify({ encrypt: encryptPayload(JSON.stringify(urlChallenge({ token: TOKEN, challenge })), KEY) });
        return { route: r, body, headers: { 'content-type': 'application/json' } };
      },
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ r: route, e: eventRecipe, ct: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', '') }).map(({ r, e, ct }) => ({
      kind: 'valid event, odd content-type',
      build: (k: number) => {
        const { body, headers } = sealed(JSON.stringify(e(k)));
        return { route: r, body, headers: { ...headers, 'content-type': ct } };
      },
    })),
  },
);

// ---------------------------------------------------------------------------------------------------------------

async function send(baseUrl: string, wire: Wire): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(`${baseUrl}${wire.route}`, {
      method: wire.method ?? 'POST',
      headers: wire.headers,
      ...(wire.method !== 'GET' && { body: wire.body }),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    // Node's HTTP parser answers an oversized header with 431 and closes; fetch may see only the close.
    return { status: -1, text: String((error as Error).cause ?? error) };
  }
}

/** Is this 200 answer one the bot may give? */
function correct200(text: string, fuzzCase: Case): boolean {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (fuzzCase.challenge !== undefined) return body?.challenge === fuzzCase.challenge && Object.keys(body).length === 1;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  if (!keys.every((key) => key === 'toast' || key === 'card')) return false;
  if (body.toast !== undefined) {
    if (!['success', 'error', 'warning', 'info'].includes(body.toast.type)) return false;
    if (typeof body.toast.content !== 'string' || body.toast.content.length === 0) return false;
  }
  return true;
}

describe('fuzz', () => {
  it(`${PHASE_A + PHASE_B} generated and mutated bodies at both routes: 4xx or a correct 200, never 5xx, no call for a refused one, memory flat`, async () => {
    h = await startHarness({ env: { LOG_LEVEL: 'warn' } });
    const harness = h;
    const { emu } = harness;
    // The start-up check's token and bot-info calls, made before any push.
    const startupCalls = emu.calls.length;
    const url = harness.app.url;
    const gc = gcFunction();
    const statuses = new Map<string, number>();
    const count = (status: number) => statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
    const failures: string[] = [];
    const describeCase = (k: number, c: Case, status: number, text: string) => `#${k} ${c.kind} → ${status} ${text.slice(0, 120)} (FUZZ_SEED=${SEED})`;

    const phaseA = fc.sample(invalidCases, { numRuns: PHASE_A, seed: SEED });
    const phaseB = fc.sample(keyedCases, { numRuns: PHASE_B, seed: SEED + 1 });

    // Phase A, with a warm-up slice first so that the heap is measured after the code paths are warm.
    const runA = async (cases: Case[], offset: number) =>
      pool(cases, 8, async (c, index) => {
        const k = offset + index;
        const { status, text } = await send(url, c.build(k));
        count(status);
        const refused = (status >= 400 && status < 500) || (status === -1 && c.kind === 'huge header');
        if (!refused) failures.push(describeCase(k, c, status, text));
      });
    const WARM_UP = 200;
    await runA(phaseA.slice(0, WARM_UP), 0);
    const heapBefore = await heapAfterGc(gc);
    await runA(phaseA.slice(WARM_UP), WARM_UP);
    await harness.settled();
    expect(failures).toEqual([]);
    expect(emu.calls.slice(startupCalls)).toEqual([]);
    expect((await harness.app.store.stats()).pendingJobs).toBe(0);
    expect(harness.logs.filter((line) => line.includes('request failed') || line.includes('"status":5'))).toEqual([]);
    // The captured log lines live in the harness, not in the bot: drop them before each measurement.
    harness.logs.length = 0;
    const heapAfterA = await heapAfterGc(gc);

    // Phase B.
    const accepted = new Set<number>();
    await pool(phaseB, 8, async (c, index) => {
      const k = PHASE_A + index;
      const { status, text } = await send(url, c.build(k));
      count(status);
      if (status === 200 && correct200(text, c)) accepted.add(k);
      else if (!(status >= 400 && status < 500)) failures.push(describeCase(k, c, status, text));
    });
    await waitFor(
      async () => {
        await harness.settled();
        return (await harness.app.store.stats()).pendingJobs === 0;
      },
      'the work of the valid pushes to finish',
      30_000,
    );
    expect(failures).toEqual([]);

    // Every call Feishu saw names a push that was accepted (token and bot-info calls name none and need none).
    const pushCalls = emu.calls.filter((call) => !call.path.includes('tenant_access_token') && call.path !== '/open-apis/bot/v3/info');
    // With no push accepted, or none making a call, the trace below would hold over nothing.
    expect(accepted.size).toBeGreaterThan(0);
    expect(pushCalls.length).toBeGreaterThan(0);
    const unaccounted = pushCalls.filter((call) => {
      const tags = [...JSON.stringify([call.path, call.body, call.query]).matchAll(/(?:ou|oc|om|ev)_fz_(\d+)/g)].map((m) => Number(m[1]));
      return tags.length === 0 || tags.some((k) => !accepted.has(k));
    });
    expect(unaccounted.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.body).slice(0, 200)}`)).toEqual([]);

    // Still alive and still right: health, and a real /todo.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await harness.say('ou_admin', '/todo after the fuzz');
    await harness.settled();
    expect(visibleForms(emu, 'oc_group', 'ou_admin')).toHaveLength(1);
    expect(harness.logs.filter((line) => line.includes('request failed') || line.includes('"status":5'))).toEqual([]);

    // Memory: the invalid phase keeps nothing; the valid phase keeps only its event ids, jobs done and log lines.
    harness.logs.length = 0;
    const heapAfter = await heapAfterGc(gc);
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    expect(heapAfterA - heapBefore).toBeLessThan(8 * 1024 * 1024);
    expect(heapAfter - heapBefore).toBeLessThan(24 * 1024 * 1024);

    const byStatus = [...statuses.entries()]
      .sort()
      .map(([s, n]) => `${n}×${s === '-1' ? 'closed' : s}`)
      .join(', ');
    figure(
      `fuzz — ${PHASE_A + PHASE_B} bodies (seed ${SEED}) at both routes: ${byStatus}; 0×5xx; ` +
        `${PHASE_A} invalid → 0 Feishu calls; ${PHASE_B} keyed → ${accepted.size} accepted, ${emu.calls.length} calls all traced to accepted pushes; ` +
        `heap ${mb(heapBefore)} MB → ${mb(heapAfterA)} MB after the invalid phase → ${mb(heapAfter)} MB at the end (after GC)`,
    );
  }, 90_000);
});
