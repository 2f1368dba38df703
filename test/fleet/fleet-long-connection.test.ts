import { afterAll, beforeAll, expect, it } from 'vitest';
import { cardActionEvent, messageEvent } from '../../emulator';
import { FAST_LONG_CONNECTION, SECRETS, buttonValue, checkCallbackAnswer, formCards, formValues, groupCards, submitButtonName } from '../e2e/harness';
import { describePostgres } from '../support/postgres';
import { type Fleet, startFleet } from './fleet';

/**
 * Two instances over Feishu's long connection, each with a connection of its own, sharing one PostgreSQL schema:
 * Feishu gives each push to one of the app's connections at random, so a form opened over one connection is often
 * submitted over the other, which only a shared store can answer. (test/e2e/long-connection.test.ts runs two
 * instances on two data files, where each push reaching exactly one of them is all that can be asked.)
 */

const mention = [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }];

describePostgres('two instances on one database, each on its own long connection', () => {
  let f: Fleet;
  beforeAll(async () => {
    f = await startFleet({ size: 2, emulator: { longConnection: FAST_LONG_CONNECTION }, env: { FEISHU_EVENTS: 'long-connection' } });
    await f.emu.awaitConnections(2);
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('handles each event once whichever connection Feishu picks, and takes a form opened over one and submitted over the other', async () => {
    const [a, b] = f.emu.connections.filter((connection) => connection.closedAt === undefined).map((connection) => connection.id);
    expect(a && b && a !== b).toBe(true);

    const ids = Array.from({ length: 20 }, (_, n) => `om_lc_fleet_${n}`);
    for (const [n, messageId] of ids.entries()) {
      const sender = n % 2 ? 'ou_member' : 'ou_alice';
      const pushed = await f.emu.pushOverConnection(
        messageEvent({ token: 'unused', senderId: sender, text: '@_user_1 /help', mentions: mention, messageId, appId: SECRETS.appId }),
      );
      expect(pushed.delivered).toBe(true);
    }
    await f.settled();
    const helps = [...f.emu.messages.values()].filter((m) => m.kind === 'ephemeral' && (m.visibleTo === 'ou_member' || m.visibleTo === 'ou_alice'));
    expect(helps).toHaveLength(20);
    // Both connections got some of them, and each message is known to the one store whichever instance took it.
    expect(f.emu.connections.filter((connection) => connection.pushes > 0)).toHaveLength(2);
    for (const messageId of ids) expect(await f.store.commit({ now: Date.now(), eventId: messageId })).toEqual({ ok: false, reason: 'duplicate' });

    const opened = await f.emu.pushOverConnection(
      messageEvent({ token: 'unused', senderId: 'ou_admin', text: '@_user_1 /todo Rotate the keys', mentions: mention, appId: SECRETS.appId }),
      { connectionId: a },
    );
    expect(opened.delivered).toBe(true);
    await f.settled();
    const [form] = formCards(f, 'ou_admin');
    if (!form) throw new Error('no form was sent');
    const submit = cardActionEvent({
      token: 'unused',
      operatorId: 'ou_admin',
      messageId: form.messageId,
      value: buttonValue(form.card, 'todo.submit'),
      name: submitButtonName(form.card),
      formValue: formValues({ text: 'Rotate the keys' }),
      appId: SECRETS.appId,
    });
    const submitted = await f.emu.pushOverConnection(submit, { connectionId: b });
    checkCallbackAnswer({ status: 200, body: submitted.answer, elapsedMs: 0 });
    expect(submitted.answer.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
    await f.settled();
    expect(groupCards(f).map((m) => JSON.stringify(m.card).includes('Rotate the keys'))).toEqual([true]);
    expect(f.emu.messages.get(form.messageId)?.deleted).toBe(true);
  });
});
