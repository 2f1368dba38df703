import { describe, expect, it } from 'vitest';
import { offsetMinutesAt } from '../../src/domain/time';
import { ZONE_NAME_LIMIT, boundedMemo, canonicalZone, formatOffset } from '../../src/domain/zones';

describe('canonicalZone', () => {
  it.each([
    ['Asia/Shanghai', 'Asia/Shanghai'],
    ['asia/shanghai', 'Asia/Shanghai'],
    ['ASIA/SHANGHAI', 'Asia/Shanghai'],
    ['US/Eastern', 'America/New_York'],
    ['utc', 'UTC'],
    ['Etc/GMT-8', 'Etc/GMT-8'],
    ['+0800', '+08:00'],
    ['-05:30', '-05:30'],
  ])('%s is %s', (raw, canonical) => {
    expect(canonicalZone(raw)).toBe(canonical);
  });

  it.each([
    ['Mars/Olympus'],
    [' Asia/Shanghai'],
    ['+15:00'],
    ['+08:75'],
    [''],
    [`Asia/${'x'.repeat(ZONE_NAME_LIMIT)}`],
    [42],
    [undefined],
    [{ toString: () => 'Asia/Shanghai' }],
  ])('refuses %j', (raw) => {
    expect(canonicalZone(raw)).toBeUndefined();
  });
});

describe('offsets', () => {
  it('spells an offset one way', () => {
    expect(formatOffset(480)).toBe('+08:00');
    expect(formatOffset(-330)).toBe('-05:30');
    expect(formatOffset(0)).toBe('+00:00');
  });

  it('gives a zone’s offset at an instant, DST included', () => {
    expect(offsetMinutesAt(Date.UTC(2026, 0, 15, 12, 0), 'America/New_York')).toBe(-300);
    expect(offsetMinutesAt(Date.UTC(2026, 6, 15, 12, 0, 30), 'America/New_York')).toBe(-240);
    expect(offsetMinutesAt(Date.UTC(2026, 6, 15, 12, 0), 'Asia/Kolkata')).toBe(330);
    expect(offsetMinutesAt(Date.UTC(2026, 6, 15, 12, 0), '-05:30')).toBe(-330);
  });
});

describe('boundedMemo', () => {
  it('computes a key once and forgets the oldest past its limit', () => {
    const computed: string[] = [];
    const memo = boundedMemo(2, (key) => {
      computed.push(key);
      return key.length;
    });
    expect([memo('a'), memo('bb'), memo('a')]).toEqual([1, 2, 1]);
    expect(computed).toEqual(['a', 'bb']);
    memo('ccc');
    memo('a');
    expect(computed).toEqual(['a', 'bb', 'ccc', 'a']);
  });
});
