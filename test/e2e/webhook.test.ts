import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cardActionEvent, messageEvent, urlChallenge } from '../../emulator';
import { type Harness, SECRETS, startHarness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});
beforeEach(() => {
  h.emu.reset();
});

const event = (eventId = `ev_${Math.random()}`) =>
  messageEvent({
    token: SECRETS.verificationToken,
    senderId: 'ou_admin',
    text: '@_user_1 /todo hi',
    eventId,
    mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'Bot' }],
  });
const outboundCalls = () => h.callsSinceStart();

describe('URL challenge', () => {
  it('answers an encrypted challenge, unsigned as Feishu sends it, on both routes', async () => {
    for (const route of ['event', 'card']) {
      const answer = await h.emu.push(`${h.app.url}/webhook/${route}`, urlChallenge({ token: SECRETS.verificationToken, challenge: `c-${route}` }), {
        encryptKey: SECRETS.encryptKey,
        sign: false,
      });
      expect(answer).toMatchObject({ status: 200, body: { challenge: `c-${route}` } });
    }
  });

  it('answers a challenge shaped as schema 2.0, its token in header.token (as the Go SDK’s fixtures have it)', async () => {
    const challenge = { schema: '2.0', header: { token: SECRETS.verificationToken }, type: 'url_verification', challenge: 'c-v2' };
    const answer = await h.emu.push(`${h.app.url}/webhook/event`, challenge, { encryptKey: SECRETS.encryptKey, sign: false });
    expect(answer).toMatchObject({ status: 200, body: { challenge: 'c-v2' } });
    const forged = await h.emu.push(
      `${h.app.url}/webhook/event`,
      { ...challenge, header: { token: 'wrong' } },
      { encryptKey: SECRETS.encryptKey, sign: false },
    );
    expect(forged).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
  });

  it('answers a plain challenge, and refuses one with a wrong token', async () => {
    const ok = await h.emu.push(`${h.app.url}/webhook/event`, urlChallenge({ token: SECRETS.verificationToken, challenge: 'plain' }), { sign: false });
    expect(ok).toMatchObject({ status: 200, body: { challenge: 'plain' } });
    const bad = await h.emu.push(`${h.app.url}/webhook/event`, urlChallenge({ token: 'wrong', challenge: 'x' }), { sign: false });
    expect(bad.status).toBe(401);
  });
});

describe('pushes that are not from Feishu', () => {
  const cases: Array<[string, () => Promise<{ status: number }>, number]> = [
    [
      'a body changed after signing',
      () => h.emu.push(`${h.app.url}/webhook/event`, event(), { encryptKey: SECRETS.encryptKey, tamper: (b) => b.replace('"}', 'x"}') }),
      401,
    ],
    ['a signature made with another key', () => h.emu.push(`${h.app.url}/webhook/event`, event(), { encryptKey: 'not-the-key' }), 401],
    [
      'an event signed 9 h ago',
      () => h.emu.push(`${h.app.url}/webhook/event`, event(), { encryptKey: SECRETS.encryptKey, timestamp: Math.floor(Date.now() / 1000) - 9 * 3600 }),
      401,
    ],
    [
      'a card callback signed 10 min ago',
      () =>
        h.emu.push(
          `${h.app.url}/webhook/card`,
          cardActionEvent({ token: SECRETS.verificationToken, operatorId: 'ou_admin', messageId: 'om_x', value: { action: 'todo.cancel', formId: 'f' } }),
          { encryptKey: SECRETS.encryptKey, timestamp: Math.floor(Date.now() / 1000) - 600 },
        ),
      401,
    ],
    ['no signature headers', () => h.emu.push(`${h.app.url}/webhook/event`, event(), { encryptKey: SECRETS.encryptKey, sign: false }), 401],
    [
      'a wrong verification token',
      () =>
        h.emu.push(`${h.app.url}/webhook/event`, messageEvent({ token: 'forged', senderId: 'ou_admin', text: '/todo' }), { encryptKey: SECRETS.encryptKey }),
      401,
    ],
    ['a signed body that is not JSON', () => h.emu.push(`${h.app.url}/webhook/event`, {}, { encryptKey: SECRETS.encryptKey, rawBody: '{"encrypt": ' }), 401],
    [
      'a signed body that is not a Feishu event',
      () => h.emu.push(`${h.app.url}/webhook/card`, { schema: '2.0', header: { token: SECRETS.verificationToken } }, { encryptKey: SECRETS.encryptKey }),
      400,
    ],
    [
      'a message event missing its message',
      () =>
        h.emu.push(
          `${h.app.url}/webhook/event`,
          { schema: '2.0', header: { event_id: 'e', event_type: 'im.message.receive_v1', token: SECRETS.verificationToken }, event: {} },
          { encryptKey: SECRETS.encryptKey },
        ),
      400,
    ],
  ];

  it.each(cases)('refuses %s with a 4xx and makes no outbound call', async (_name, send, status) => {
    const answer = await send();
    expect(answer.status).toBe(status);
    await h.settled();
    expect(outboundCalls()).toEqual([]);
  });

  it('refuses a signed body over the limit with 413', async () => {
    const answer = await h.emu.push(
      `${h.app.url}/webhook/event`,
      {},
      { encryptKey: SECRETS.encryptKey, rawBody: JSON.stringify({ encrypt: 'A'.repeat(1024 * 1024 + 10) }) },
    );
    expect(answer.status).toBe(413);
    expect(outboundCalls()).toEqual([]);
  });

  it('is healthy, and knows nothing of other routes', async () => {
    const health = await fetch(`${h.app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { components: { events: unknown } }).components.events).toMatchObject({
      ok: true,
      transport: 'webhook',
      state: 'open',
      reconnects: 0,
    });
    expect((await fetch(`${h.app.url}/webhook/event`)).status).toBe(405);
    expect((await fetch(`${h.app.url}/nope`)).status).toBe(404);
  });
});

describe('the routes are exact (issue 23, item 1)', () => {
  it('answers 404 to any other spelling of a push route, and labels push metrics only with the route names', async () => {
    // Feishu POSTs to the URL as configured; a case-insensitive, slash-tolerant router let 12,288 spellings of one
    // route each become a metric series.
    const spellings = ['/WEBHOOK/EVENT', '/Webhook/Event', '/webhook/Event', '/webhook/event/', '/webhook/CARD', '/webhook/card/', '/webhook/card//'];
    for (const path of spellings) {
      const answer = await h.emu.push(`${h.app.url}${path}`, event(), { encryptKey: SECRETS.encryptKey });
      expect(answer.status, path).toBe(404);
    }
    expect((await h.emu.push(`${h.app.url}/webhook/event`, {}, { encryptKey: SECRETS.encryptKey, rawBody: '{}' })).status).toBe(401);
    expect((await h.emu.push(`${h.app.url}/webhook/card`, {}, { encryptKey: SECRETS.encryptKey, rawBody: '{}' })).status).toBe(401);
    const scrape = await (await fetch(`${h.app.url}/metrics`)).text();
    const routes = new Set([...scrape.matchAll(/^todo_bot_push\w*\{[^}]*route="([^"]*)"/gm)].map((match) => match[1]));
    expect([...routes].sort()).toEqual(['card', 'event']);
    await h.settled();
    expect(outboundCalls()).toEqual([]);
  });
});

describe('either route takes either kind of push', () => {
  it('accepts a message on /webhook/card and a card action on /webhook/event', async () => {
    const message = await h.emu.push(`${h.app.url}/webhook/card`, event(), { encryptKey: SECRETS.encryptKey });
    expect(message.status).toBe(200);
    const click = await h.emu.push(
      `${h.app.url}/webhook/event`,
      cardActionEvent({ token: SECRETS.verificationToken, operatorId: 'ou_admin', messageId: 'om_x', value: { action: 'todo.cancel', formId: 'unknown' } }),
      { encryptKey: SECRETS.encryptKey },
    );
    expect(click).toMatchObject({ status: 200, body: { toast: { type: 'warning' } } });
    await h.settled();
    expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(1);
  });

  it('acknowledges an event type it does not handle', async () => {
    const other = {
      schema: '2.0',
      header: { event_id: 'ev_other', event_type: 'im.message.reaction.created_v1', token: SECRETS.verificationToken },
      event: {},
    };
    const answer = await h.emu.push(`${h.app.url}/webhook/event`, other, { encryptKey: SECRETS.encryptKey });
    expect(answer).toMatchObject({ status: 200, body: {} });
  });
});

describe('duplicate deliveries', () => {
  it('handles a repeated event_id once, also after a restart', async () => {
    const payload = event('ev_repeat');
    const push = () => h.emu.push(`${h.app.url}/webhook/event`, payload, { encryptKey: SECRETS.encryptKey });
    expect((await push()).status).toBe(200);
    expect((await push()).status).toBe(200);
    await h.settled();
    await h.restart();
    expect((await push()).status).toBe(200);
    await h.settled();
    expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(1);
  });

  it('handles a message pushed again under a new event_id once, as Feishu asks (dedupe by message_id)', async () => {
    await h.say('ou_admin', '/todo first', { messageId: 'om_pushed_twice', eventId: 'ev_first_push' });
    await h.settled();
    const again = await h.say('ou_admin', '/todo first', { messageId: 'om_pushed_twice', eventId: 'ev_second_push' });
    expect(again.status).toBe(200);
    await h.settled();
    // The form the first push opened is still open: the repeat did not replace it with a second.
    expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(1);
    expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/delete')).toHaveLength(0);
    expect(h.logs.some((line) => line.includes('"duplicate delivery ignored"') && line.includes('om_pushed_twice'))).toBe(true);
  });
});
