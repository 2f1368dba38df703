import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    emulator: {
      chats: [
        { chatId: 'oc_group', chatType: 'group', ownerId: 'ou_owner', managerIds: ['ou_admin'], memberIds: ['ou_owner', 'ou_admin', 'ou_member'] },
        { chatId: 'oc_dm', chatType: 'p2p', ownerId: 'ou_member', managerIds: [], memberIds: ['ou_member'] },
      ],
    },
  });
});
afterAll(async () => {
  await h.stop();
});
beforeEach(() => {
  h.emu.reset();
});

/** What the person was shown: ephemeral cards to them, or replies to their message. */
async function shownTo(user: string, text: string, opts: Parameters<Harness['say']>[2] = {}) {
  const before = new Set(h.emu.messages.keys());
  const answer = await h.say(user, text, opts);
  expect(answer.status).toBe(200);
  await h.settled();
  return [...h.emu.messages.values()]
    .filter((m) => !before.has(m.messageId) && m.senderId === 'ou_bot')
    .map((m) => ({ kind: m.kind, visibleTo: m.visibleTo, text: JSON.stringify(m.card) }));
}

describe('help and hints', () => {
  it('/help lists every command, privately', async () => {
    const shown = await shownTo('ou_member', '/help');
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ kind: 'ephemeral', visibleTo: 'ou_member' });
    for (const usage of ['/todo', '/todos', '/recall', '/help']) expect(shown[0]?.text).toContain(usage);
  });

  it('a bare mention of the bot answers with help', async () => {
    const shown = await shownTo('ou_member', '');
    expect(shown[0]?.text).toContain('/todo');
  });

  it('an unknown command gets a one-line hint', async () => {
    const shown = await shownTo('ou_member', '/frobnicate now');
    expect(shown).toHaveLength(1);
    expect(shown[0]?.text).toMatch(/I don't know \/frobnicate\. Send \/help/);
  });

  it('works without the leading mention', async () => {
    const shown = await shownTo('ou_member', '/help', { mentionBot: false });
    expect(shown[0]?.text).toContain('/todo');
  });

  it('stays quiet on chatter that does not mention it, and hints when it is mentioned', async () => {
    expect(await shownTo('ou_member', 'lunch?', { mentionBot: false })).toEqual([]);
    const hinted = await shownTo('ou_member', 'lunch?');
    expect(hinted[0]?.text).toMatch(/only understand commands/);
  });

  it('in a direct chat answers by reply, and explains that to-dos live in groups', async () => {
    const dm = (text: string) => ({
      chatId: 'oc_dm',
      chatType: 'p2p' as const,
      mentionBot: false,
      messageId: h.emu.addExternalMessage({ chatId: 'oc_dm', senderId: 'ou_member', text }),
    });
    const help = await shownTo('ou_member', '/help', dm('/help'));
    expect(help).toMatchObject([{ kind: 'reply' }]);
    const todo = await shownTo('ou_member', '/todo x', dm('/todo x'));
    expect(todo).toMatchObject([{ kind: 'reply' }]);
    expect(todo[0]?.text).toMatch(/group chats/);
  });
});
