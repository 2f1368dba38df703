import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, messageEvent, startEmulator } from '../../emulator';
import type { FeishuEvent } from '../../src/feishu/events';
import { createLogger } from '../../src/log';
import { LongConnectionReceiver } from '../../src/receivers/long-connection';
import { SECRETS } from '../bot-env';
import { FAST_LONG_CONNECTION } from '../e2e/harness';
import { figure, gcFunction, memoryAfterGc } from './support';

/**
 * Issue 23, item 4: hostile fragments over the long connection, from the emulator's gateway to the SDK's real
 * WSClient inside the receiver. The SDK's own fragment cache allocated `new Array(sum)` for any `sum` (one frame
 * with `sum: 1e9` aborted the process, heap out of memory) and kept every unfinished push 10 s whatever it weighed
 * (2,000 unfinished fragments held 425 MB). The receiver puts a bounded cache in its place.
 */

let emu: Emulator;
let receiver: LongConnectionReceiver | undefined;
let logs: string[] = [];
let clock = Date.now();
const received: FeishuEvent[] = [];

async function start(limits: { pushLimitBytes: number; budgetBytes: number }) {
  emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, longConnection: FAST_LONG_CONNECTION });
  logs = [];
  received.length = 0;
  receiver = new LongConnectionReceiver({
    appId: SECRETS.appId,
    appSecret: SECRETS.appSecret,
    domain: emu.url,
    logger: createLogger('debug', { write: (line: string) => void logs.push(line) }),
    receive: async (event) => {
      received.push(event);
      return {};
    },
    now: () => clock,
    ...limits,
  });
  await receiver.start();
  await emu.awaitConnections(1);
}

afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  await emu.close();
});

const message = (eventId: string, text = '/help') => messageEvent({ token: 'unused', senderId: 'ou_admin', text, eventId, appId: SECRETS.appId });
const refusals = () => logs.map((line) => JSON.parse(line) as { sdk?: string }).filter((line) => line.sdk?.includes('event fragment refused'));

describe('fragments over the long connection', () => {
  it('refuses a fragment claiming a billion siblings before allocating for it, and goes on handling pushes', async () => {
    await start({ pushLimitBytes: 512 * 1024, budgetBytes: 16 * 1024 * 1024 });
    const payload = Buffer.from(JSON.stringify(message('ev_huge')));
    emu.sendFragments([
      { messageId: 'm_huge', sum: '1000000000', seq: '0', payload },
      { messageId: 'm_negative', sum: '2', seq: '-1', payload },
    ]);
    const next = await emu.pushOverConnection(message('ev_after'));
    expect(next.deliveries.map((d) => d.outcome)).toEqual(['acked']);
    expect(received.map((event) => event.eventId)).toEqual(['ev_after']);
    expect(refusals()).toHaveLength(2);
    expect(refusals()[0]?.sdk).toContain('sum 1000000000 is not 1 to 1000');
    expect(receiver?.health().state).toBe('open');
  });

  it('refuses a push past the size limit whether it comes in one frame or in several', async () => {
    await start({ pushLimitBytes: 4 * 1024, budgetBytes: 16 * 1024 * 1024 });
    const large = Buffer.from(JSON.stringify(message('ev_large', `/todo ${'x'.repeat(8 * 1024)}`)));
    const quarter = Math.ceil(large.length / 4);
    emu.sendFragments([
      { messageId: 'm_one_frame', sum: '1', seq: '0', payload: large },
      ...[0, 1, 2, 3].map((i) => ({ messageId: 'm_four_frames', sum: '4', seq: String(i), payload: large.subarray(i * quarter, (i + 1) * quarter) })),
    ]);
    // Frames are handled in order: once this one is acknowledged, the two above have been seen.
    expect((await emu.pushOverConnection(message('ev_small'))).delivered).toBe(true);
    expect(received.map((event) => event.eventId)).toEqual(['ev_small']);
    const [oneFrame, ...fourFrames] = refusals().map((line) => line.sdk);
    expect(oneFrame).toMatch(/m_one_frame.*the push passes 4096 bytes/);
    expect(fourFrames.length).toBeGreaterThan(0);
    for (const refusal of fourFrames) expect(refusal).toMatch(/m_four_frames.*the push would pass 4096 bytes/);
  });

  it('holds at most the budget for unfinished pushes, lets them expire, and joins a real split push', async () => {
    const budgetBytes = 1024 * 1024;
    await start({ pushLimitBytes: 512 * 1024, budgetBytes });
    const gc = gcFunction();
    const before = await memoryAfterGc(gc);
    // 2,000 pushes that never finish, 16 KiB each: 31 MiB sent.
    const fragment = Buffer.alloc(16 * 1024, 0x20);
    for (let batch = 0; batch < 20; batch++) {
      emu.sendFragments(Array.from({ length: 100 }, (_, i) => ({ messageId: `m_${batch}_${i}`, sum: '2', seq: '0', payload: fragment })));
    }
    // Frames are handled in order: once this one is acknowledged, every fragment above has been seen.
    expect((await emu.pushOverConnection(message('ev_marker'))).delivered).toBe(true);
    const after = await memoryAfterGc(gc);
    const heldMiB = (after.arrayBuffers - before.arrayBuffers) / 2 ** 20;
    figure(
      `long connection: 2,000 unfinished 16 KiB fragments (31 MiB sent): ${(receiver?.fragments.bytes ?? 0) / 1024} KiB held, ${heldMiB.toFixed(1)} MiB of buffers after GC, ${refusals().length} refused`,
    );
    expect(receiver?.fragments.bytes).toBeLessThanOrEqual(budgetBytes);
    expect(heldMiB).toBeLessThan(8);
    expect(refusals().length).toBeGreaterThan(1_900);

    // Once the unfinished ones have waited 10 s (on the receiver's clock) they are dropped, and a real push split in
    // three is joined, its UTF-8 characters cut across fragments.
    clock += 10_001;
    const text = `/todo ${'长'.repeat(2_000)}`;
    const delivered = await emu.pushOverConnection(message('ev_split', text), { fragments: 3 });
    expect(delivered.delivered).toBe(true);
    // The whole text, so fragments decoded one by one (each cut character a U+FFFD) would not pass.
    expect(received.find((event) => event.eventId === 'ev_split')).toMatchObject({ type: 'message', text });
    expect(receiver?.fragments.bytes).toBe(0);
  });
});
