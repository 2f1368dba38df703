import { describe, expect, it } from 'vitest';
import { ProfileZones } from '../../src/bot/profile-zones';
import { FeishuApiError } from '../../src/feishu/errors';
import { createLogger } from '../../src/log';

const HOUR = 3_600_000;

function zones(lookup: (userId: string) => Promise<string | undefined>, limit?: number) {
  let clock = 0;
  const calls: string[] = [];
  const directory = new ProfileZones({
    lookup: (userId) => {
      calls.push(userId);
      return lookup(userId);
    },
    now: () => clock,
    logger: createLogger('silent'),
    limit,
  });
  return { directory, calls, advance: (ms: number) => (clock += ms) };
}

describe('ProfileZones', () => {
  it('asks Feishu once per person while the answer is fresh, and again after 12 h', async () => {
    const { directory, calls, advance } = zones(async () => 'Europe/Berlin');
    expect(directory.cached('ou_a')).toBeUndefined();
    expect(await directory.lookup('ou_a')).toBe('Europe/Berlin');
    expect(await directory.lookup('ou_a')).toBe('Europe/Berlin');
    expect(directory.cached('ou_a')).toBe('Europe/Berlin');
    expect(calls).toEqual(['ou_a']);
    advance(12 * HOUR);
    expect(directory.cached('ou_a')).toBeUndefined();
    await directory.lookup('ou_a');
    expect(calls).toEqual(['ou_a', 'ou_a']);
  });

  it('treats a refusal (no contact scope) as unknown, remembered for 10 minutes only', async () => {
    const { directory, calls, advance } = zones(async () => {
      throw new FeishuApiError('contact.v3.user.get', 99991672, 'Access denied. One of the following scopes is required', 400);
    });
    expect(await directory.lookup('ou_a')).toBeUndefined();
    expect(await directory.lookup('ou_a')).toBeUndefined();
    expect(calls).toHaveLength(1);
    advance(10 * 60_000);
    await directory.lookup('ou_a');
    expect(calls).toHaveLength(2);
  });

  it('shares one call among concurrent look-ups of one person', async () => {
    let release: (zone: string) => void = () => undefined;
    const { directory, calls } = zones(() => new Promise((resolve) => (release = resolve)));
    const both = Promise.all([directory.lookup('ou_a'), directory.lookup('ou_a')]);
    release('Asia/Tokyo');
    expect(await both).toEqual(['Asia/Tokyo', 'Asia/Tokyo']);
    expect(calls).toEqual(['ou_a']);
  });

  it('within(): unknown after the bound, and the late answer serves the next click', async () => {
    let release: (zone: string) => void = () => undefined;
    const { directory } = zones(() => new Promise((resolve) => (release = resolve)));
    expect(await directory.within('ou_a', 20)).toBeUndefined();
    release('America/Chicago');
    expect(await directory.within('ou_a', 20)).toBe('America/Chicago');
  });

  it('keeps at most `limit` people, forgetting the oldest first', async () => {
    const { directory, calls } = zones(async (userId) => (userId === 'ou_b' ? 'Asia/Tokyo' : 'Europe/Paris'), 2);
    for (const userId of ['ou_a', 'ou_b', 'ou_c']) await directory.lookup(userId);
    expect(directory.cached('ou_a')).toBeUndefined();
    expect(directory.cached('ou_b')).toBe('Asia/Tokyo');
    expect(directory.cached('ou_c')).toBe('Europe/Paris');
    expect(calls).toEqual(['ou_a', 'ou_b', 'ou_c']);
  });
});
