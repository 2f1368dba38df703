import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, formCards, noticesTo, startHarness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { USER_COMMAND_LIMIT: '5', USER_COMMAND_WINDOW_SECONDS: '10' } });
});
afterAll(async () => {
  await h.stop();
});

describe('a person flooding the bot', () => {
  it('is throttled with one polite notice while others are unaffected', async () => {
    const flood = Array.from({ length: 100 }, () => h.say('ou_member', '/help'));
    const others = [h.say('ou_admin', '/todo from the admin'), h.say('ou_alice', '/help')];
    const answers = await Promise.all([...flood, ...others]);
    // Every push is acknowledged: Feishu must not retry them.
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await h.settled();

    const toFlooder = noticesTo(h, 'ou_member');
    const helps = toFlooder.filter((card) => card.includes('To-do bot commands'));
    const warnings = toFlooder.filter((card) => card.includes('faster than I can help'));
    console.log(`FIGURE: abuse: 100 commands in a burst from one person: ${helps.length} answered, ${warnings.length} notice, ${100 - helps.length} dropped; others unaffected`);
    expect(helps).toHaveLength(5);
    expect(warnings).toHaveLength(1);
    expect(formCards(h, 'ou_admin')).toHaveLength(1);
    expect(noticesTo(h, 'ou_alice').filter((card) => card.includes('To-do bot commands'))).toHaveLength(1);
  });
});
