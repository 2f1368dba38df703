import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { MemoryPersistence } from '../../src/store/embedded/persistence';
import type { Commit, CommitResult } from '../../src/store/store';
import { waitFor } from '../reliability/support';
import { type Harness, formCards, startHarness } from './harness';

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
