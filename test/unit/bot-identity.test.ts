import { describe, expect, it } from 'vitest';
import { BotIdentity } from '../../src/bot/bot-identity';

describe('the bot’s identity', () => {
  it('uses what the start-up check learned without asking Feishu', async () => {
    const identity = new BotIdentity(async () => {
      throw new Error('must not be asked');
    });
    expect(identity.knownOpenId()).toBeUndefined();
    identity.learn('ou_bot');
    expect(identity.knownOpenId()).toBe('ou_bot');
    expect(await identity.openId()).toBe('ou_bot');
  });

  it('asks once for all who need it at the same time, and asks again after a failed look-up', async () => {
    const answers: Array<() => Promise<{ openId: string }>> = [
      async () => {
        throw new Error('Feishu unreachable');
      },
      async () => ({ openId: 'ou_bot' }),
    ];
    let asked = 0;
    const identity = new BotIdentity(() => (answers[asked++] as () => Promise<{ openId: string }>)());
    const both = await Promise.allSettled([identity.openId(), identity.openId()]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(asked).toBe(1);
    expect(await identity.openId()).toBe('ou_bot');
    expect(await identity.openId()).toBe('ou_bot');
    expect(asked).toBe(2);
    expect(identity.knownOpenId()).toBe('ou_bot');
  });
});
