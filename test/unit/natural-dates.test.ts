import * as en from 'chrono-node/en';
import { describe, expect, it } from 'vitest';
import { ENGLISH_PARSERS_LEFT_OUT, reminderInText } from '../../src/domain/natural-dates';
import { dayBounds, instantAt, offsetMinutesAt } from '../../src/domain/time';

/** Monday 30 November 2026, 10:00 in Shanghai. */
const now = Date.parse('2026-11-30T10:00:00+08:00');
const inShanghai = (text: string) => reminderInText(text, { now, zone: 'Asia/Shanghai' });
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('reading a reminder time out of the /todo text', () => {
  it.each([
    ['明天下午3点 提交周报', '2026-12-01T07:00:00.000Z', '提交周报'],
    ['提交周报 明天下午3点', '2026-12-01T07:00:00.000Z', '提交周报'],
    ['下周一 9:00 开会', '2026-12-07T01:00:00.000Z', '开会'],
    ['今天下午5点半 复盘', '2026-11-30T09:30:00.000Z', '复盘'],
    ['2026年12月24日 18:00 发版', '2026-12-24T10:00:00.000Z', '发版'],
    ['submit the report tomorrow 3pm', '2026-12-01T07:00:00.000Z', 'submit the report'],
    ['submit the report next Friday 10:00', '2026-12-11T02:00:00.000Z', 'submit the report'],
    ['fix the bug on Dec 3 at 14:30', '2026-12-03T06:30:00.000Z', 'fix the bug'],
    ['send the invoice by tomorrow 5pm please', '2026-12-01T09:00:00.000Z', 'send the invoice please'],
    ['提交 report tomorrow 3pm', '2026-12-01T07:00:00.000Z', '提交 report'],
    ['明天15:00 提交周报', '2026-12-01T07:00:00.000Z', '提交周报'],
  ])('%s → %s, text %s', (text, at, rest) => {
    const found = inShanghai(text);
    expect(iso(found?.remindAt)).toBe(at);
    expect(found?.text).toBe(rest);
  });

  it.each([
    ['3点开会', 'could be 3 in the morning or the afternoon'],
    ['remind me at 9', 'could be morning or evening'],
    ['明天 提交周报', 'names a day but no time'],
    ['today 9am standup', 'is already past'],
    ['今天上午8点 站会', 'is already past'],
    ['ship v1.2', 'names no time at all'],
    ['', 'is empty'],
  ])('%s prefills nothing: it %s', (text) => {
    expect(inShanghai(text)).toBeUndefined();
  });

  it('reads the time in the person’s own zone', () => {
    const found = reminderInText('call the vendor tomorrow 3pm', { now, zone: 'America/New_York' });
    // 10:00 in Shanghai is 21:00 the day before in New York: "tomorrow" is 30 November there.
    expect(iso(found?.remindAt)).toBe('2026-11-30T20:00:00.000Z');
  });
});

describe('words delivered late count their times from when they were written', () => {
  // Feishu retries a push for hours while the bot is down: the /todo arrives long after it was sent.
  const written = Date.parse('2026-11-30T14:00:00+08:00');
  const read = (text: string, lateMinutes: number) =>
    iso(reminderInText(text, { now: written + lateMinutes * 60_000, writtenAt: written, zone: 'Asia/Shanghai' })?.remindAt);

  it.each([
    ['call the supplier in 3 hours', 60, '2026-11-30T17:00+08:00'],
    ['下午4点 开会', 60, '2026-11-30T16:00+08:00'],
  ])('%s, %i minutes late → %s', (text, late, at) => {
    expect(read(text, late)).toBe(iso(Date.parse(at)));
  });

  it('reads "tomorrow" from the day it was written, across midnight', () => {
    const beforeMidnight = Date.parse('2026-11-30T23:50:00+08:00');
    const found = reminderInText('明天下午3点 提交周报', { now: beforeMidnight + 30 * 60_000, writtenAt: beforeMidnight, zone: 'Asia/Shanghai' });
    expect(iso(found?.remindAt)).toBe(iso(Date.parse('2026-12-01T15:00+08:00')));
  });

  it('prefills nothing when the time written has passed by the time the words arrive (not the next day’s)', () => {
    expect(read('call the supplier at 3pm', 90)).toBeUndefined();
    expect(read('下午3点 开会', 90)).toBeUndefined();
    // Read from its arrival instead, the same words would name tomorrow at 3pm.
    expect(iso(reminderInText('call the supplier at 3pm', { now: written + 90 * 60_000, zone: 'Asia/Shanghai' })?.remindAt)).toBe(
      iso(Date.parse('2026-12-01T15:00+08:00')),
    );
  });

  it('never counts from a time after now (a sender’s clock ahead of the bot’s)', () => {
    const found = reminderInText('call the supplier in 3 hours', { now: written, writtenAt: written + 10 * 60_000, zone: 'Asia/Shanghai' });
    expect(iso(found?.remindAt)).toBe(iso(Date.parse('2026-11-30T17:00+08:00')));
  });
});

describe('dates near midnight, read in the person’s zone whatever this process’s zone is', () => {
  // Each case is in Shanghai and in Los Angeles, 16 hours apart: whatever zone runs the tests, a reading that took
  // the day or the forward-dating from the process's own clock (chrono's Chinese parsers do) fails in one of them.
  it.each([
    ['明天下午3点 提交周报', '2026-12-01T07:00+08:00', 'Asia/Shanghai', '2026-12-02T15:00+08:00'],
    ['明天下午3点 提交周报', '2026-11-30T18:00-08:00', 'America/Los_Angeles', '2026-12-01T15:00-08:00'],
    ['今天下午5点半 复盘', '2026-12-01T07:00+08:00', 'Asia/Shanghai', '2026-12-01T17:30+08:00'],
    ['今天下午5点半 复盘', '2026-11-30T07:00-08:00', 'America/Los_Angeles', '2026-11-30T17:30-08:00'],
    ['下午3点 开会', '2026-12-01T07:00+08:00', 'Asia/Shanghai', '2026-12-01T15:00+08:00'],
    ['下午3点 开会', '2026-11-30T23:00-08:00', 'America/Los_Angeles', '2026-12-01T15:00-08:00'],
    // A weekday and a time later that day is that day, not the same weekday next week.
    ['周五下午3点 站会', '2026-12-04T09:00+08:00', 'Asia/Shanghai', '2026-12-04T15:00+08:00'],
    ['standup Friday 3pm', '2026-12-04T09:00+08:00', 'Asia/Shanghai', '2026-12-04T15:00+08:00'],
    ['standup Friday 3pm', '2026-12-04T09:00-08:00', 'America/Los_Angeles', '2026-12-04T15:00-08:00'],
    ['submit tomorrow 3pm', '2026-12-01T07:00+08:00', 'Asia/Shanghai', '2026-12-02T15:00+08:00'],
  ])('%s said at %s in %s → %s', (text, said, zone, at) => {
    expect(iso(reminderInText(text, { now: Date.parse(said), zone })?.remindAt)).toBe(iso(Date.parse(at)));
  });
});

describe('wall-clock times in a zone', () => {
  it('knows the offset on both sides of a DST change', () => {
    expect(offsetMinutesAt(Date.parse('2026-03-07T12:00:00Z'), 'America/New_York')).toBe(-300);
    expect(offsetMinutesAt(Date.parse('2026-03-09T12:00:00Z'), 'America/New_York')).toBe(-240);
    expect(offsetMinutesAt(now, 'Asia/Kolkata')).toBe(330);
  });

  it('turns a wall-clock time into its instant, across DST', () => {
    expect(iso(instantAt({ year: 2026, month: 3, day: 7, hour: 9, minute: 0 }, 'America/New_York'))).toBe('2026-03-07T14:00:00.000Z');
    expect(iso(instantAt({ year: 2026, month: 3, day: 9, hour: 9, minute: 0 }, 'America/New_York'))).toBe('2026-03-09T13:00:00.000Z');
    expect(iso(instantAt({ year: 2026, month: 12, day: 1, hour: 15, minute: 0 }, 'Asia/Shanghai'))).toBe('2026-12-01T07:00:00.000Z');
  });

  it('places a time the clocks skip at the jump, and a time they pass twice at the first, east and west of UTC', () => {
    const at = (month: number, day: number, hour: number, minute: number, zone: string) => iso(instantAt({ year: 2026, month, day, hour, minute }, zone));
    // 02:30 does not exist on these nights: the clocks go from 02:00 to 03:00.
    expect(at(3, 8, 2, 30, 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
    expect(at(3, 29, 2, 30, 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    // 01:30 in New York and 02:30 in Berlin happen twice on these nights.
    expect(at(11, 1, 1, 30, 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(at(10, 25, 2, 30, 'Europe/Berlin')).toBe('2026-10-25T00:30:00.000Z');
    // More than 12 hours east of UTC: Auckland's spring gap and autumn overlap.
    expect(at(9, 27, 2, 30, 'Pacific/Auckland')).toBe('2026-09-26T14:00:00.000Z');
    expect(at(4, 5, 2, 30, 'Pacific/Auckland')).toBe('2026-04-04T13:30:00.000Z');
    // Lord Howe moves its clocks by half an hour.
    expect(at(10, 4, 2, 15, 'Australia/Lord_Howe')).toBe('2026-10-03T15:30:00.000Z');
    expect(at(12, 1, 15, 0, '+05:30')).toBe('2026-12-01T09:30:00.000Z');
  });

  it('ends a day at the next midnight even where that midnight is skipped', () => {
    // Cuba moves its clocks from 00:00 to 01:00 on 8 March 2026: 7 March ends when they jump, not an hour early.
    const { start, end } = dayBounds(Date.UTC(2026, 2, 7, 15), 'America/Havana');
    expect([iso(start), iso(end)]).toEqual(['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z']);
  });
});

describe('the English parser', () => {
  it("leaves out parsers chrono still has, by their names (a chrono that renames them fails here, not in production's speed)", () => {
    const names = en.casual.parsers.map((parser) => parser.constructor.name);
    for (const name of ENGLISH_PARSERS_LEFT_OUT) expect(names).toContain(name);
  });

  it('still reads "in …" times, which is what the parsers left out would add', () => {
    expect(iso(inShanghai('call the supplier in 3 hours')?.remindAt)).toBe('2026-11-30T05:00:00.000Z');
    expect(inShanghai('call the supplier in 3 hours')?.text).toBe('call the supplier');
  });
});
