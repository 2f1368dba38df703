import { createDecipheriv, createHash } from 'node:crypto';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as lark from '@larksuiteoapi/node-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Emulator, type EmulatorOptions, cardActionEvent, messageEvent, startEmulator, validateCallbackAnswer, validateCard } from '../../emulator/index';

const APP = { appId: 'cli_test_app', appSecret: 'test-app-secret' };

const card = (elements: unknown[] = [{ tag: 'markdown', content: 'hi' }]) => ({
  schema: '2.0',
  config: { update_multi: true },
  header: { title: { tag: 'plain_text', content: 'To-do' }, template: 'blue' },
  body: { elements },
});

const callbackButton = {
  tag: 'button',
  text: { tag: 'plain_text', content: 'Done' },
  behaviors: [{ type: 'callback', value: { a: 1 } }],
};

let emu: Emulator;
const started: Emulator[] = [];

async function start(opts?: EmulatorOptions): Promise<Emulator> {
  const emulator = await startEmulator(opts);
  started.push(emulator);
  return emulator;
}

async function token(target: Emulator = emu): Promise<string> {
  const res = await fetch(`${target.url}/open-apis/auth/v3/tenant_access_token/internal`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app_id: APP.appId, app_secret: APP.appSecret }),
  });
  return ((await res.json()) as { tenant_access_token: string }).tenant_access_token;
}

/** A raw call, so status, code and headers can all be checked. */
async function api(method: string, path: string, body?: unknown, bearer?: string | null, target: Emulator = emu) {
  const auth = bearer === null ? undefined : (bearer ?? (await token(target)));
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(auth && { authorization: `Bearer ${auth}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const sendText = (text: string, uuid?: string) =>
  api('POST', '/open-apis/im/v1/messages?receive_id_type=chat_id', {
    receive_id: 'oc_group',
    msg_type: 'text',
    content: JSON.stringify({ text }),
    ...(uuid && { uuid }),
  });

beforeEach(async () => {
  emu = await start();
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

describe('through the real SDK', () => {
  // The SDK's default token cache is process-wide and keyed by app id only: a token from an earlier test's
  // emulator would be sent to this one and refused with 99991663. A cache per client keeps tests apart.
  const sdkClient = (logger?: lark.Logger) =>
    new lark.Client({
      ...APP,
      domain: emu.url,
      loggerLevel: lark.LoggerLevel.error,
      cache: new lark.DefaultCache(),
      ...(logger && { logger }),
    });
  const quiet: lark.Logger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

  it('fetches a token, sends a card and reads the chat', async () => {
    const client = sdkClient();
    const sent = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_group', msg_type: 'interactive', content: JSON.stringify(card()) },
    });
    expect(sent.code).toBe(0);
    const id = sent.data?.message_id ?? '';
    expect(emu.messages.get(id)).toMatchObject({ kind: 'message', msgType: 'interactive', senderId: 'ou_bot' });

    const chat = await client.im.v1.chat.get({ path: { chat_id: 'oc_group' } });
    expect(chat.data).toMatchObject({ owner_id: 'ou_owner', user_manager_id_list: ['ou_admin'] });
    expect(emu.callsTo('POST', '/open-apis/auth/v3/tenant_access_token/internal')).toHaveLength(1);
    expect(emu.successfulCallsTo('POST', '/open-apis/im/v1/messages')).toHaveLength(1);
  });

  it('rejects a non-2xx answer with the Feishu code and x-tt-logid', async () => {
    const client = sdkClient(quiet); // the SDK logs every refusal at error level
    const failure = await client.im.v1.message.delete({ path: { message_id: 'om_missing' } }).catch((e) => e);
    expect(failure.response.status).toBe(400);
    expect(failure.response.data.code).toBe(230001);
    expect(failure.response.headers['x-tt-logid']).toMatch(/\w+/);
  });
});

describe('auth', () => {
  it('answers 10014, 99991661 and, after revocation, 99991663', async () => {
    const credentials = { app_id: APP.appId, app_secret: 'x' };
    const wrong = await api('POST', '/open-apis/auth/v3/tenant_access_token/internal', credentials, null);
    expect([wrong.status, wrong.body.code]).toEqual([400, 10014]);
    expect((await api('GET', '/open-apis/bot/v3/info', undefined, null)).body.code).toBe(99991661);

    const live = await token();
    expect((await api('GET', '/open-apis/bot/v3/info', undefined, live)).body.bot.open_id).toBe('ou_bot');
    emu.revokeTokens();
    const revoked = await api('GET', '/open-apis/bot/v3/info', undefined, live);
    expect([revoked.status, revoked.body.code]).toEqual([400, 99991663]);
  });

  it('expires tokens after their ttl', async () => {
    let now = 1_000_000;
    const timed = await start({ tokenTtlSeconds: 60, now: () => now });
    const live = await token(timed);
    now += 61_000;
    expect((await api('GET', '/open-apis/bot/v3/info', undefined, live, timed)).body.code).toBe(99991663);
  });
});

describe('messages', () => {
  it('drops a repeat with the same uuid and answers with the first message id', async () => {
    const first = await sendText('hello', 'outbox-1');
    const second = await sendText('hello', 'outbox-1');
    expect(second.body.data.message_id).toBe(first.body.data.message_id);
    expect(emu.messages.size).toBe(1);
    expect(emu.successfulCallsTo('POST', '/open-apis/im/v1/messages')).toHaveLength(2);
  });

  it('refuses content given as an object', async () => {
    const res = await api('POST', '/open-apis/im/v1/messages?receive_id_type=chat_id', {
      receive_id: 'oc_group',
      msg_type: 'interactive',
      content: card(),
    });
    expect([res.status, res.body.code]).toEqual([400, 230001]);
    expect(res.body.msg).toMatch(/^content/);
  });

  it('answers each recall refusal with its documented code', async () => {
    const own = (await sendText('mine')).body.data.message_id as string;
    const theirs = emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_alice', text: 'hers' });
    const recall = (id: string) => api('DELETE', `/open-apis/im/v1/messages/${id}`);

    expect((await recall('om_nope')).body.code).toBe(230001);
    expect((await recall(theirs)).body.code).toBe(230026);
    expect((await recall(own)).body).toMatchObject({ code: 0, msg: 'success', data: {} });
    expect((await recall(own)).body.code).toBe(230110);
    expect(emu.messages.get(own)?.recalled).toBe(true);

    const other = (await sendText('another')).body.data.message_id as string;
    const group = emu.chats.get('oc_group');
    if (group) group.dissolved = true;
    expect((await recall(other)).body.code).toBe(232009);
  });

  it("records a person's reply as a reply to its parent, which the bot can reply to in turn", async () => {
    const own = (await sendText('mine')).body.data.message_id as string;
    const answer = emu.addExternalMessage({ chatId: 'oc_group', senderId: 'ou_alice', text: 'on it', parentId: own });
    expect(emu.messages.get(answer)).toMatchObject({ kind: 'reply', parentId: own, senderId: 'ou_alice' });
    const res = await api('POST', `/open-apis/im/v1/messages/${answer}/reply`, { msg_type: 'text', content: JSON.stringify({ text: 'ok' }) });
    expect(res.body.code).toBe(0);
  });

  it('updates only cards that state update_multi, and not after recall', async () => {
    const plain = { ...card(), config: {} };
    const sent = await api('POST', '/open-apis/im/v1/messages?receive_id_type=chat_id', {
      receive_id: 'oc_group',
      msg_type: 'interactive',
      content: JSON.stringify(plain),
    });
    const id = sent.body.data.message_id as string;
    const refused = await api('PATCH', `/open-apis/im/v1/messages/${id}`, { content: JSON.stringify(card()) });
    expect(refused.body.code).toBe(230099);

    const multi = await api('POST', '/open-apis/im/v1/messages?receive_id_type=chat_id', {
      receive_id: 'oc_group',
      msg_type: 'interactive',
      content: JSON.stringify(card()),
    });
    const multiId = multi.body.data.message_id as string;
    const next = card([{ tag: 'markdown', content: 'done' }]);
    const patch = () => api('PATCH', `/open-apis/im/v1/messages/${multiId}`, { content: JSON.stringify(next) });
    expect((await patch()).body.code).toBe(0);
    expect(emu.messages.get(multiId)?.updates).toEqual([next]);
    await api('DELETE', `/open-apis/im/v1/messages/${multiId}`);
    expect((await patch()).body.code).toBe(230011);
  });
});

describe('ephemeral cards', () => {
  const sendTo = (openId: string, body: object = {}) =>
    api('POST', '/open-apis/ephemeral/v1/send', {
      chat_id: 'oc_group',
      open_id: openId,
      msg_type: 'interactive',
      card: card(),
      ...body,
    });

  it('sends, deletes, then answers 18051', async () => {
    const sent = await sendTo('ou_admin');
    const id = sent.body.data.message_id as string;
    expect(id).toMatch(/^om_eph_/);
    expect(emu.messages.get(id)).toMatchObject({ kind: 'ephemeral', visibleTo: 'ou_admin' });

    expect((await api('POST', '/open-apis/ephemeral/v1/delete', { message_id: id })).body.code).toBe(0);
    const again = await api('POST', '/open-apis/ephemeral/v1/delete', { message_id: id });
    expect([again.status, again.body.code]).toEqual([400, 18051]);
  });

  it('refuses a card with local i18n fields, which the ephemeral API does not take', async () => {
    const bilingual = card([{ tag: 'markdown', content: '你好', i18n_content: { zh_cn: '你好', en_us: 'Hello' } }]);
    const refused = await sendTo('ou_admin', { card: bilingual });
    expect(refused.body.code).toBe(230099);
    expect(refused.body.msg).toMatch(/no local i18n.*i18n_content/);
    expect((await sendTo('ou_admin', { card: card([{ tag: 'markdown', content: '你好' }]) })).body.code).toBe(0);
  });

  it('refuses a card given as a string, a stranger, and an invalid card', async () => {
    expect((await sendTo('ou_admin', { card: JSON.stringify(card()) })).body).toMatchObject({ code: 230001 });
    expect((await sendTo('ou_stranger')).body.code).toBe(230013);
    const formWithoutSubmit = card([{ tag: 'form', name: 'f', elements: [{ tag: 'input', name: 'text' }] }]);
    const invalid = await sendTo('ou_admin', { card: formWithoutSubmit });
    expect(invalid.body.code).toBe(230099);
    expect(invalid.body.msg).toMatch(/submit/);
  });
});

describe('app feed cards', () => {
  const feedCard = {
    biz_id: 'todo-1',
    title: 'Buy milk',
    preview: 'before 5pm',
    link: { link: 'https://example.com' },
  };

  it('reports duplicates as reason 4 and missing ones as reason 2, under code 0', async () => {
    const path = '/open-apis/im/v2/app_feed_card?user_id_type=open_id';
    const first = await api('POST', path, { app_feed_card: feedCard, user_ids: ['ou_alice'] });
    expect(first.body.data.failed_cards).toEqual([]);
    const again = await api('POST', path, { app_feed_card: feedCard, user_ids: ['ou_alice', 'ou_bob'] });
    expect(again.body.code).toBe(0);
    expect(again.body.data.failed_cards).toEqual([{ biz_id: 'todo-1', user_id: 'ou_alice', reason: '4' }]);
    expect(emu.feedCards.has('todo-1:ou_bob')).toBe(true);

    const removed = await api('DELETE', '/open-apis/im/v2/app_feed_card/batch?user_id_type=open_id', {
      feed_cards: [
        { biz_id: 'todo-1', user_id: 'ou_alice' },
        { biz_id: 'todo-1', user_id: 'ou_nobody' },
      ],
    });
    expect(removed.body.data.failed_cards).toEqual([{ biz_id: 'todo-1', user_id: 'ou_nobody', reason: '2' }]);
    expect(emu.feedCards.has('todo-1:ou_alice')).toBe(false);

    const tooMany = Array.from({ length: 21 }, (_, i) => `ou_${i}`);
    expect((await api('POST', path, { app_feed_card: feedCard, user_ids: tooMany })).body.code).toBe(230001);
  });
});

describe('faults', () => {
  it('applies a rule exactly `times` times, without changing state', async () => {
    emu.fault({ method: 'POST', path: '/open-apis/im/v1/messages', code: 230020, times: 2 });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await sendText(`try ${i}`, 'same')).body.code);
    expect(codes).toEqual([230020, 230020, 0]);
    expect(emu.messages.size).toBe(1);
    expect(emu.callsTo('POST', '/open-apis/im/v1/messages').map((c) => c.status)).toEqual([400, 400, 200]);
  });

  it('answers a partial success given as a whole body with HTTP 200', async () => {
    const failed = [{ biz_id: 'b', user_id: 'ou_alice', reason: '3' }];
    const path = '/open-apis/im/v2/app_feed_card/batch';
    emu.fault({ path, body: { code: 0, msg: 'ok', data: { failed_cards: failed } } });
    const res = await api('DELETE', path, { feed_cards: [{ biz_id: 'b', user_id: 'ou_alice' }] });
    expect([res.status, res.body.data.failed_cards]).toEqual([200, failed]);
  });

  it('delays and then handles the call normally when the rule has only delayMs', async () => {
    emu.fault({ method: 'POST', path: '/open-apis/im/v1/messages', delayMs: 120 });
    const before = performance.now();
    expect((await sendText('slow')).body.code).toBe(0);
    expect(performance.now() - before).toBeGreaterThanOrEqual(100);
    expect(emu.messages.size).toBe(1);
  });

  it('holds a call unanswered until released, then handles it normally', async () => {
    const release = emu.hold({ method: 'POST', path: '/open-apis/im/v1/messages' });
    const held = sendText('held');
    await vi.waitFor(() => expect(emu.arrivedCalls('POST', '/open-apis/im/v1/messages')).toBe(1));
    // A call that arrived later is answered, the held one not.
    expect((await sendText('later')).body.code).toBe(0);
    const answered = () => emu.callsTo('POST', '/open-apis/im/v1/messages').map((c) => [JSON.parse(c.body.content).text, c.fault]);
    expect(answered()).toEqual([['later', undefined]]);
    release();
    expect((await held).body.code).toBe(0);
    expect(answered()).toEqual([
      ['later', undefined],
      ['held', 'delay'],
    ]);
  });

  it('drops the socket and records status 0', async () => {
    emu.fault({ path: /\/bot\/v3\/info$/, drop: true });
    const live = await token();
    await expect(api('GET', '/open-apis/bot/v3/info', undefined, live)).rejects.toThrow();
    expect(emu.callsTo('GET', '/open-apis/bot/v3/info')[0]?.status).toBe(0);
  });
});

describe('rate limits', () => {
  it('answers 429 with a reset header once 50 ephemeral sends land in one second', async () => {
    const limited = await start({ enforceRateLimits: true, now: () => 5_000_000 });
    const live = await token(limited);
    const body = { chat_id: 'oc_group', open_id: 'ou_admin', msg_type: 'interactive', card: card() };
    const answers = await Promise.all(Array.from({ length: 45 }, () => api('POST', '/open-apis/ephemeral/v1/send', body, live, limited)));
    expect(answers.filter((a) => a.body.code === 230020)).toHaveLength(5); // 40 QPS per group
    const more = await Promise.all(Array.from({ length: 10 }, () => api('POST', '/open-apis/ephemeral/v1/send', body, live, limited)));
    const refused = more.filter((a) => a.status === 429);
    expect(refused).toHaveLength(5); // 45 already admitted app-wide, 50 allowed
    expect(refused[0]?.body.code).toBe(99991400);
    expect(Number(refused[0]?.headers.get('x-ogw-ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(refused[0]?.headers.get('x-ogw-ratelimit-limit')).toBe('50');
    expect(limited.rateLimitRejections).toBe(15);
  });
});

describe('validateCard', () => {
  const submit = {
    tag: 'button',
    name: 'submit',
    text: { tag: 'plain_text', content: 'OK' },
    form_action_type: 'submit',
  };

  it('accepts a form with named fields and a submit button', () => {
    const form = {
      tag: 'form',
      name: 'todo',
      elements: [
        { tag: 'input', name: 'text', required: true, max_length: 500, placeholder: { tag: 'plain_text', content: 'x' } },
        { tag: 'picker_datetime', name: 'when', initial_datetime: '2025-06-10 19:19' },
        { tag: 'multi_select_person', name: 'who' },
        submit,
      ],
    };
    expect(validateCard(card([form, callbackButton]))).toBeNull();
  });

  it('takes a row of buttons inside a form as form buttons, and a form only at the root', () => {
    const row = (...buttons: unknown[]) => ({ tag: 'column_set', columns: buttons.map((button) => ({ tag: 'column', width: 'auto', elements: [button] })) });
    const cancel = { ...submit, name: 'cancel', text: { tag: 'plain_text', content: 'Cancel' } };
    const form = (elements: unknown[]) => ({ tag: 'form', name: 'f', elements });
    expect(validateCard(card([form([row(submit, cancel)])]))).toBeNull();
    expect(validateCard(card([form([row(submit, { ...cancel, name: '' })])]))).toMatch(/non-empty name/);
    expect(validateCard(card([form([row(submit, { ...cancel, form_action_type: undefined })])]))).toMatch(/form_action_type/);
    expect(validateCard(card([form([row(submit, { ...cancel, name: 'submit' })])]))).toMatch(/duplicate name/);
    expect(validateCard(card([{ tag: 'column_set', columns: [{ tag: 'column', elements: [form([submit])] }] }]))).toMatch(/directly in body.elements/);
  });

  it('names the rule a card breaks', () => {
    const form = (elements: unknown[]) => card([{ tag: 'form', name: 'f', elements }]);
    expect(validateCard(form([{ ...submit, form_action_type: 'reset' }]))).toMatch(/submit/);
    expect(validateCard(form([{ tag: 'input' }, submit]))).toMatch(/non-empty name/);
    expect(validateCard(card([{ tag: 'button', text: { tag: 'plain_text', content: 'x' } }]))).toMatch(/behaviors/);
    expect(validateCard(card([{ tag: 'input', name: 'x', required: true }]))).toMatch(/required/);
    expect(validateCard(card([{ tag: 'multi_select_person', name: 'x' }]))).toMatch(/only allowed inside a form/);
    expect(validateCard(card([{ tag: 'action', actions: [] }]))).toMatch(/200861/);
    expect(validateCard(card([{ tag: 'blink' }]))).toMatch(/unknown tag/);
    const unpadded = { tag: 'picker_datetime', name: 'd', initial_datetime: '2025-6-1 9:00' };
    expect(validateCard(form([unpadded, submit]))).toMatch(/yyyy-MM-dd HH:mm/);
    expect(validateCard({ ...card(), config: { update_multi: false } })).toMatch(/update_multi/);
    expect(validateCard({ elements: [] })).toMatch(/schema/);
    expect(validateCard({ schema: '2.0', elements: [] })).toMatch(/body.elements/);
  });
});

describe('local i18n, as configure-multi-language-content and title.md (2.0) describe it', () => {
  const both = { zh_cn: '完成', en_us: 'Done' };
  const tag = (content: string) => [{ tag: 'text_tag', text: { tag: 'plain_text', content }, color: 'blue' }];
  const withHeader = (header: object) => ({ ...card(), header: { title: { tag: 'plain_text', content: 'x' }, ...header } });

  it('accepts i18n_content beside the content of every text object, the title and the summary', () => {
    const bilingual = {
      schema: '2.0',
      config: { update_multi: true, summary: { content: 'To-do', i18n_content: { zh_cn: '待办', en_us: 'To-do' } } },
      header: {
        title: { tag: 'plain_text', i18n_content: { zh_cn: '待办', en_us: 'To-do' } },
        i18n_text_tag_list: { zh_cn: tag('未完成'), en_us: tag('Open') },
      },
      body: {
        elements: [
          { tag: 'markdown', content: 'Done', i18n_content: both },
          { tag: 'div', text: { tag: 'plain_text', content: 'Done', i18n_content: both } },
          { ...callbackButton, text: { tag: 'plain_text', content: 'Done', i18n_content: both } },
        ],
      },
    };
    expect(validateCard(bilingual)).toBeNull();
  });

  it('names the rule a wrong shape breaks', () => {
    expect(validateCard(card([{ tag: 'markdown', content: 'x', i18n_content: { zh: 'x' } }]))).toMatch(/i18n_content.zh: unknown language/);
    expect(validateCard(card([{ tag: 'markdown', content: 'x', i18n_content: 'x' }]))).toMatch(/texts by language/);
    expect(validateCard(card([{ tag: 'markdown', content: 'x', i18n_content: { en_us: 1 } }]))).toMatch(/must be a string/);
    expect(validateCard(card([{ tag: 'hr', i18n_content: both }]))).toMatch(/only a text object/);
    expect(validateCard(card([{ ...callbackButton, i18n_content: both }]))).toMatch(/only a text object/);
    expect(validateCard(withHeader({ title: { tag: 'plain_text', content: 'x', i18n: both } }))).toMatch(/global i18n is not supported/);
    expect(validateCard(withHeader({ text_tag_list: tag('Open'), i18n_text_tag_list: { en_us: tag('Open') } }))).toMatch(/exclude each other/);
    expect(validateCard(withHeader({ i18n_text_tag_list: { english: tag('Open') } }))).toMatch(/unknown language/);
    expect(validateCard({ ...card(), config: { summary: { text: 'x' } } })).toMatch(/summary/);
    const long = { ...callbackButton, text: { tag: 'plain_text', content: 'ok', i18n_content: { zh_cn: 'ok', en_us: 'x'.repeat(101) } } };
    expect(validateCard(card([long]))).toMatch(/en_us: longer than 100/);
  });

  it('reads a callback answer: a toast with i18n by language, and a raw 2.0 card', () => {
    expect(validateCallbackAnswer({})).toBeNull();
    expect(
      validateCallbackAnswer({ toast: { type: 'success', content: 'ok', i18n: { zh_cn: '好', en_us: 'ok' } }, card: { type: 'raw', data: card() } }),
    ).toBeNull();
    expect(validateCallbackAnswer({ toast: { type: 'done', content: 'ok' } })).toMatch(/toast type/);
    expect(validateCallbackAnswer({ toast: { type: 'info', content: 'ok', i18n: { cn: '好' } } })).toMatch(/toast.i18n.cn: unknown language/);
    expect(validateCallbackAnswer({ toast: { type: 'info' } })).toMatch(/content or i18n/);
    expect(validateCallbackAnswer({ card: { type: 'raw', data: { elements: [] } } })).toMatch(/card.data: schema/);
  });
});

describe('push', () => {
  async function botStub() {
    const seen: Array<{ headers: IncomingHttpHeaders; raw: string }> = [];
    const server = createServer(async (req, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      seen.push({ headers: req.headers, raw });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
    return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  /** Decrypted as a bot would, independently of the emulator's own code. */
  function decrypted(raw: string, encryptKey: string): unknown {
    const data = Buffer.from(JSON.parse(raw).encrypt, 'base64');
    const key = createHash('sha256').update(encryptKey).digest();
    const decipher = createDecipheriv('aes-256-cbc', key, data.subarray(0, 16));
    return JSON.parse(Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8'));
  }

  it('signs the raw bytes and encrypts so that an independent implementation agrees', async () => {
    const bot = await botStub();
    const encryptKey = 'test-encrypt-key';
    const payload = messageEvent({ token: 'vtoken', senderId: 'ou_admin', text: '@_user_1 /todo 买牛奶' });
    const result = await emu.push(bot.url, payload, { encryptKey });
    await bot.close();

    expect(result).toMatchObject({ status: 200, body: { ok: true } });
    const [got] = bot.seen;
    if (!got) throw new Error('the bot stub received nothing');
    const { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce } = got.headers;
    const expected = createHash('sha256').update(`${ts}${nonce}${encryptKey}${got.raw}`).digest('hex');
    expect(got.headers['x-lark-signature']).toBe(expected);

    expect(decrypted(got.raw, encryptKey)).toEqual(payload);
  });

  it('tampers after signing, and sends a card action envelope', async () => {
    const bot = await botStub();
    const payload = cardActionEvent({ token: 'v', operatorId: 'ou_admin', messageId: 'om_1', value: { action: 'x' } });
    await emu.push(bot.url, payload, { encryptKey: 'k', tamper: (raw) => raw.replace(/.$/, ' }') });
    await bot.close();
    expect(bot.seen).toHaveLength(1);
    const [got] = bot.seen;
    if (!got) throw new Error('the bot stub received nothing');
    const { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce } = got.headers;
    const sign = (raw: string) => createHash('sha256').update(`${ts}${nonce}k${raw}`).digest('hex');
    const signature = got.headers['x-lark-signature'];
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(signature).not.toBe(sign(got.raw));
    // Signed over the bytes before the tamper: the body as composed, its closing brace not yet padded.
    expect(got.raw).toMatch(/" }$/);
    expect(signature).toBe(sign(got.raw.replace(/ }$/, '}')));
    // The tamper leaves the JSON readable, so the envelope inside is still the card action that was pushed.
    const envelope = decrypted(got.raw, 'k');
    expect(envelope).toEqual(payload);
    expect(envelope).toMatchObject({
      schema: '2.0',
      header: { event_type: 'card.action.trigger' },
      event: { operator: { open_id: 'ou_admin' }, action: { value: { action: 'x' } }, context: { open_message_id: 'om_1' } },
    });
  });
});

describe('contact: people’s profiles', () => {
  it('gives a member’s time_zone through the real SDK; a stranger is 41050', async () => {
    emu.timeZones.set('ou_alice', 'Europe/Berlin');
    const client = new lark.Client({ ...APP, domain: emu.url, loggerLevel: lark.LoggerLevel.error, cache: new lark.DefaultCache() });
    const alice = await client.contact.v3.user.get({ path: { user_id: 'ou_alice' }, params: { user_id_type: 'open_id' } });
    expect(alice.data?.user).toMatchObject({ open_id: 'ou_alice', time_zone: 'Europe/Berlin' });
    const bob = await api('GET', '/open-apis/contact/v3/users/ou_bob?user_id_type=open_id');
    expect(bob.body.data.user.time_zone).toBe('Asia/Shanghai');
    const stranger = await api('GET', '/open-apis/contact/v3/users/ou_stranger?user_id_type=open_id');
    expect(stranger).toMatchObject({ status: 400, body: { code: 41050 } });
  });

  it('without a contact scope answers 99991672 naming the scopes, as Feishu refuses a call lacking its scope', async () => {
    emu.setContactScope(false);
    const refused = await api('GET', '/open-apis/contact/v3/users/ou_alice?user_id_type=open_id');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 99991672,
      msg: expect.stringMatching(/^Access denied\. One of the following scopes is required: \[contact:contact\.base:readonly/),
    });
    expect(refused.body.error.permission_violations).toContainEqual({ type: 'action_scope_required', subject: 'contact:contact.base:readonly' });
    emu.setContactScope(true);
    expect((await api('GET', '/open-apis/contact/v3/users/ou_alice?user_id_type=open_id')).status).toBe(200);
  });
});

describe('what real clients send', () => {
  it('a formatted message as a post: paragraphs, at elements for mention keys, links, styled words', () => {
    const event = messageEvent({
      token: 'v',
      senderId: 'ou_admin',
      text: '@_all @_user_1 /todo Ship it\nsee https://example.com',
      format: 'post',
      style: ['bold'],
      mentions: [
        { key: '@_all', name: '所有人' },
        { key: '@_user_1', openId: 'ou_bot', name: 'Bot' },
      ],
    }) as { event: { message: { message_type: string; content: string; mentions: unknown[] } } };
    expect(event.event.message.message_type).toBe('post');
    expect(JSON.parse(event.event.message.content)).toEqual({
      title: '',
      content: [
        [
          { tag: 'at', user_id: '@_all', user_name: '所有人' },
          { tag: 'text', text: ' ', style: ['bold'] },
          { tag: 'at', user_id: '@_user_1', user_name: 'Bot' },
          { tag: 'text', text: ' /todo Ship it', style: ['bold'] },
        ],
        [
          { tag: 'text', text: 'see ', style: ['bold'] },
          { tag: 'a', text: 'https://example.com', href: 'https://example.com', style: ['bold'] },
        ],
      ],
    });
    expect(event.event.message.mentions[0]).toEqual({ key: '@_all', id: { union_id: '', user_id: '', open_id: '' }, name: '所有人', tenant_key: '' });
  });

  it('a click without a value or a timezone leaves both keys out', () => {
    const click = cardActionEvent({ token: 'v', operatorId: 'ou_admin', messageId: 'om_1', name: 'submit_x', formValue: { a: '1' } }) as {
      event: { action: Record<string, unknown> };
    };
    expect(click.event.action).toEqual({ tag: 'button', name: 'submit_x', form_value: { a: '1' } });
  });
});
