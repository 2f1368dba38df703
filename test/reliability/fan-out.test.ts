import { afterAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../e2e/harness';
import { SEND, adminGroup, figure, pool, visibleForms, waitFor } from './support';

/**
 * 300 admins of one group open a form at the same moment, against an emulator that enforces Feishu's limits
 * (ephemeral send: 40/s per chat, 50/s and 1000/min per app). The bot's own limiter must keep every call
 * under them: no 230020 and no 429, and every form delivered.
 */

const USERS = 300;
const CHAT = 'oc_fanout';
const CHAT_LIMIT_PER_S = 40;

let h: Harness | undefined;
afterAll(async () => {
  await h?.stop();
});

/** The most calls that fell in any window of `windowMs` (arrival times as the emulator saw them). */
function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

describe('rate fan-out', () => {
  it(`${USERS} forms opened in one group at once: 0 limit errors, all delivered`, async () => {
    const users = Array.from({ length: USERS }, (_, i) => `ou_fan_${i}`);
    h = await startHarness({ emulator: { chats: [adminGroup(CHAT, users)], enforceRateLimits: true }, env: { LOG_LEVEL: 'info' } });
    const harness = h;
    const { emu } = harness;

    const started = performance.now();
    const answers = await pool(users, 50, (user, i) => harness.say(user, `/todo fan-out ${i}`, { chatId: CHAT }));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await waitFor(
      async () => {
        await harness.settled();
        return (await harness.app.store.stats()).pendingJobs === 0;
      },
      'every form to be sent',
      60_000,
    );
    const elapsedS = (performance.now() - started) / 1000;

    expect(emu.rateLimitRejections).toBe(0);
    const sends = emu.successfulCallsTo('POST', SEND);
    expect(emu.callsTo('POST', SEND)).toHaveLength(USERS);
    expect(sends).toHaveLength(USERS);
    for (const user of users) expect(visibleForms(emu, CHAT, user)).toHaveLength(1);
    expect(harness.logs.filter((line) => line.includes('feishu call failed'))).toEqual([]);

    const times = sends.map((c) => c.at);
    const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
    const rate = (USERS - 1) / spanS;
    const peak = peakInWindow(times, 1_000);
    expect(peak).toBeLessThanOrEqual(CHAT_LIMIT_PER_S);
    figure(
      `rate fan-out — ${USERS} forms in one group: ${sends.length} delivered, ${emu.rateLimitRejections} limit errors; ` +
        `ephemeral sends at ${rate.toFixed(1)}/s (limit ${CHAT_LIMIT_PER_S}/s per chat), peak ${peak} in any 1 s window; ` +
        `all delivered ${elapsedS.toFixed(1)} s after the first push`,
    );
  }, 60_000);
});
