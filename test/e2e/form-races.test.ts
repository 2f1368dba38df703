import { afterEach, describe, expect, it } from 'vitest';
import { defaultChats } from '../../emulator';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { MemoryPersistence } from '../../src/store/embedded/persistence';
import type { Commit, CommitResult } from '../../src/store/store';
import { waitFor } from '../reliability/support';
import { type Harness, TOPIC_GROUP, cancelForm, formCards, hasSubmit, startHarness } from './harness';

/**
 * Races a form's jobs lose to a person's next command, made to happen at the worst moment: a store that runs a
 * command of the test's just before a chosen commit, so that the commit finds the record changed since it was read
 * (what another instance, or the next push on this one, does when it lands between the job's read and its write).
 */

/** An embedded store that calls `before` once, ahead of the first commit `when` picks. */
class StoreWithRace extends EmbeddedStore {
  race?: { when: (commit: Commit) => boolean; before: () => Promise<void> } | undefined;

  override async commit(commit: Commit): Promise<CommitResult> {
    const race = this.race;
    if (race?.when(commit)) {
      this.race = undefined;
      await race.before();
    }
    return super.commit(commit);
  }
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
});

describe('a form replaced while its card is being recorded', () => {
  it('still has its card deleted: the send job records the card it sent whatever the form became', async () => {
    const store = new StoreWithRace(new MemoryPersistence());
    const harness = await startHarness({ app: { store } });
    h = harness;
    store.race = {
      // The send job storing the id of the card Feishu just showed: the replacing /todo lands first.
      when: (commit) => commit.by?.kind === 'form.send' && commit.forms?.[0]?.messageId !== undefined,
      before: async () => {
        await harness.say('ou_admin', '/todo second');
        await waitFor(async () => (await store.openForm('oc_group', 'ou_admin'))?.draftText === 'second', 'the second form to replace the first');
      },
    };
    await harness.say('ou_admin', '/todo first');
    await harness.settled();

    const cards = formCards(harness, 'ou_admin');
    expect(cards.map((m) => [JSON.stringify(m.card).includes('first') ? 'first' : 'second', m.deleted])).toEqual([
      ['first', true],
      ['second', false],
    ]);
  });
});

describe('a topic group’s form, clicked or replaced before its sending is recorded', () => {
  const TOPIC = TOPIC_GROUP.chatId;
  /** The bot's direct chat with the admin, where a topic group's form goes. */
  const DIRECT = 'oc_p2p_admin';
  const directCards = (harness: Harness) => [...harness.emu.messages.values()].filter((m) => m.chatId === DIRECT);

  async function start() {
    const store = new StoreWithRace(new MemoryPersistence());
    const harness = await startHarness({ app: { store }, emulator: { chats: [...defaultChats(), TOPIC_GROUP] } });
    h = harness;
    /** `/todo text` in a new topic. */
    const todoInTopic = async (text: string) => {
      const messageId = harness.emu.addExternalMessage({ chatId: TOPIC, senderId: 'ou_admin', text: `/todo ${text}` });
      await harness.say('ou_admin', `/todo ${text}`, { chatId: TOPIC, messageId, threadId: harness.emu.messages.get(messageId)?.threadId });
    };
    /** Until the send job records the direct card it sent. */
    const beforeRecorded = (commit: Commit) =>
      commit.by?.kind === 'form.send' && commit.forms?.[0]?.delivery?.kind === 'direct' && commit.forms[0].messageId !== undefined;
    return { store, harness, todoInTopic, beforeRecorded };
  }

  it('takes a Cancel from the direct chat, which tells the form its chat', async () => {
    const { store, harness, todoInTopic, beforeRecorded } = await start();
    let toast: { type?: string } | undefined;
    store.race = {
      when: beforeRecorded,
      before: async () => {
        const card = directCards(harness).at(-1);
        if (!card) throw new Error('no direct card yet');
        toast = (await cancelForm(harness, 'ou_admin', { messageId: card.messageId, card: card.card }, { chatId: DIRECT })).body.toast;
      },
    };
    await todoInTopic('first');
    await harness.settled();
    expect(toast).toMatchObject({ type: 'info' });
    expect(hasSubmit(directCards(harness).at(-1)?.card)).toBe(false);
  });

  it('closes the card in place when another /todo replaced the form meanwhile', async () => {
    const { store, harness, todoInTopic, beforeRecorded } = await start();
    store.race = {
      when: beforeRecorded,
      before: async () => {
        await todoInTopic('second');
        await waitFor(async () => (await store.openForm(TOPIC, 'ou_admin'))?.draftText === 'second', 'the second form to replace the first');
      },
    };
    await todoInTopic('first');
    await harness.settled();
    const [first, second] = directCards(harness);
    expect(JSON.stringify(first?.card)).not.toContain('second');
    expect(hasSubmit(first?.card)).toBe(false);
    expect(hasSubmit(second?.card)).toBe(true);
  });
});
