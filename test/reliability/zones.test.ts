import { describe, expect, it } from 'vitest';
import { formatInstant } from '../../cards/parts';
import { cardActionEvent } from '../../emulator';
import { nextOccurrence, tomorrowAt } from '../../src/domain/time';
import { type CardActionEvent, parseEvent } from '../../src/feishu/events';
import { figure, gcFunction, memoryAfterGc } from './support';

/**
 * Case variants of one zone name (`asia/shanghai`, `ASIA/Shanghai`, …) are all accepted by Intl, and every
 * formatter cache keyed by the raw string kept one ICU formatter per variant forever (about 60 KB of native memory
 * each, invisible to `heapUsed`). A click carries whatever zone its client reports, so the variants went through
 * the edge, the snooze answer and the card renderers. Measured as RSS after GC, since the cost is native.
 */

const VARIANTS = 5_000;
const BASE_ZONE = 'America/Los_Angeles';

/** The first `n` distinct upper/lower-case spellings of `BASE_ZONE`. */
function caseVariants(n: number): string[] {
  const letters = [...BASE_ZONE].map((char, index) => ({ char, index })).filter(({ char }) => /[a-z]/i.test(char));
  return Array.from({ length: n }, (_, i) =>
    [...BASE_ZONE]
      .map((char, index) => {
        const bit = letters.findIndex((letter) => letter.index === index);
        return bit >= 0 && (i >> bit) & 1 ? char.toUpperCase() : char.toLowerCase();
      })
      .join(''),
  );
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

describe('time zones from callbacks', () => {
  it(`keeps memory flat over ${VARIANTS.toLocaleString('en')} case variants of one zone, on every path a zone takes`, async () => {
    const gc = gcFunction();
    const variants = caseVariants(VARIANTS);
    expect(new Set(variants).size).toBe(VARIANTS);
    const now = Date.UTC(2026, 10, 24, 1, 0);

    /** What a Tomorrow 9:00 click does with its zone: parsed at the edge, then the answer's time and text. */
    const click = (zone: string) => {
      const event = parseEvent(
        cardActionEvent({
          token: 't',
          operatorId: 'ou_alice',
          messageId: 'om_1',
          value: { action: 'todo.tomorrow', todoId: 'td_1' },
          timezone: zone,
        }) as Record<string, unknown>,
      ) as CardActionEvent;
      const used = event.timeZone ?? 'Asia/Shanghai';
      const at = tomorrowAt(now, used, 9);
      // The toast says the time in every language.
      return `${formatInstant(at, used, 'zh_cn')} ${formatInstant(at, used, 'en_us')}`;
    };
    /** A zone already stored with a to-do (written before zones were canonicalised) taking the same paths. */
    const stored = (zone: string) =>
      `${formatInstant(now, zone, 'zh_cn')} ${formatInstant(now, zone, 'en_us')} ${tomorrowAt(now, zone, 9)} ${nextOccurrence(now, 'daily', zone, now)}`;

    // Warm-up: the code paths and the one real zone's formatters exist before the first measurement.
    for (const zone of variants.slice(0, 50)) {
      click(zone);
      stored(zone);
    }
    const before = (await memoryAfterGc(gc)).rss;
    for (const zone of variants) {
      expect(click(zone)).toMatch(/\(America\/Los_Angeles\)$/);
      stored(zone);
    }
    const after = (await memoryAfterGc(gc)).rss;
    figure(
      `zone variants: ${VARIANTS.toLocaleString('en')} case variants of ${BASE_ZONE} through the edge, Tomorrow 9:00 and the card renderers: RSS ${mb(before)} MB → ${mb(after)} MB after GC`,
    );
    expect(after - before).toBeLessThan(40 * 1024 * 1024);
  });
});
