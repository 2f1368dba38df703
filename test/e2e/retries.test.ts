import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cardActionEvent, messageEvent } from '../../emulator';
import { type Harness, SECRETS, TestClock, formCards, formValues, groupCards, noticesTo, openForm, startHarness } from './harness';

/**
 * Issue 12, item 5: Feishu retries an event it got no answer for after 15 s, 5 min, 1 h and 6 h, and may send the
 * retry with its original timestamp. Refusing that retry as stale loses the event. Card callbacks are never retried,
 * so an old one is a replay and keeps the short window. The bot's clock is moved; nothing waits for real hours.
 */

const HOUR = 3_600_000;
const clock = new TestClock(Date.now());
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(async () => {
  await h.stop();
});
beforeEach(() => {
  h.emu.reset();
});

const seconds = () => Math.floor(clock.now() / 1000);
const helpRequest = (eventId: string, sender: string) =>
  messageEvent({
    token: SECRETS.verificationToken,
    senderId: sender,
    text: '@_user_1 /help',
    eventId,
    mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
  });
const helpCards = (sender: string) => noticesTo(h, sender).filter((card) => card.includes('To-do bot commands'));

describe('an event Feishu retries hours later', () => {
  it('is accepted 6 h late with its original timestamp, and handled once however often it comes', async () => {
    let lost: Awaited<ReturnType<Harness['emu']['push']>>['delivery'] | undefined;
    // The bot is down when Feishu first pushes the event: the push gets no answer.
    await h.restart(async () => {
      await expect(
        h.emu.push(`${h.app.url}/webhook/event`, helpRequest('ev_retry_6h', 'ou_alice'), { encryptKey: SECRETS.encryptKey, timestamp: seconds() }),
      ).rejects.toThrow();
      lost = h.emu.deliveries.at(-1);
      clock.jump(6 * HOUR + 15_000);
    });
    if (!lost) throw new Error('the first push was not recorded');

    const retry = await h.emu.redeliver(lost, { to: `${h.app.url}/webhook/event` });
    expect(retry.status).toBe(200);
    // Feishu's own retry of the retry, or a replay of it: a duplicate, answered and dropped.
    const again = await h.emu.redeliver(lost, { to: `${h.app.url}/webhook/event` });
    expect(again.status).toBe(200);
    await h.settled();
    expect(lost.headers['x-lark-request-timestamp']).toBe(String(Math.floor((clock.now() - 6 * HOUR - 15_000) / 1000)));
    expect(helpCards('ou_alice')).toHaveLength(1);
  });

  it("counts once against the person's command budget, however often it is delivered", async () => {
    // USER_COMMAND_LIMIT is 10 a window: six commands, each delivered twice (Feishu's retry of a push whose answer
    // it never got), are six commands. Counted per delivery, the sixth's first delivery was the eleventh: it became
    // the "too many commands" notice and claimed the event, so the command itself was lost.
    for (let n = 0; n < 6; n++) {
      const first = await h.emu.push(`${h.app.url}/webhook/event`, helpRequest(`ev_twice_${n}`, 'ou_member'), {
        encryptKey: SECRETS.encryptKey,
        timestamp: seconds(),
      });
      expect(first.status).toBe(200);
      expect((await h.emu.redeliver(first.delivery)).status).toBe(200);
    }
    await h.settled();
    expect(helpCards('ou_member')).toHaveLength(6);
    expect(noticesTo(h, 'ou_member').filter((card) => card.includes('faster than I can help'))).toEqual([]);
  });

  it("is refused once no retry of Feishu's could be that old", async () => {
    const first = await h.emu.push(`${h.app.url}/webhook/event`, helpRequest('ev_retry_9h', 'ou_bob'), {
      encryptKey: SECRETS.encryptKey,
      timestamp: seconds() - 9 * 3600,
    });
    expect(first).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    await h.settled();
    expect(helpCards('ou_bob')).toHaveLength(0);
  });
});

describe('a card callback, which Feishu never retries', () => {
  it('is refused when it arrives 10 minutes after it was signed, and changes nothing', async () => {
    const form = await openForm(h, 'ou_admin');
    const submit = cardActionEvent({
      token: SECRETS.verificationToken,
      operatorId: 'ou_admin',
      messageId: form.messageId,
      value: { action: 'todo.submit', formId: form.formId },
      formValue: formValues({ text: 'Replayed submit' }),
      timezone: 'Asia/Shanghai',
    });
    const old = await h.emu.push(`${h.app.url}/webhook/card`, submit, { encryptKey: SECRETS.encryptKey, timestamp: seconds() - 600 });
    expect(old).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    await h.settled();
    expect(groupCards(h)).toHaveLength(0);
    expect((await h.app.services.store.form(form.formId))?.status).toBe('open');

    // The same click signed now goes through: only its age was wrong.
    const fresh = await h.emu.push(`${h.app.url}/webhook/card`, submit, { encryptKey: SECRETS.encryptKey, timestamp: seconds() });
    expect(fresh.body?.toast?.type).toBe('success');
    await h.settled();
    expect(groupCards(h)).toHaveLength(1);
    expect(formCards(h, 'ou_admin').every((card) => card.deleted)).toBe(true);
  });
});
