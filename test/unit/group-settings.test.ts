import { describe, expect, it } from 'vitest';
import { MEMBER_CHANGES_LIMIT, membersWhoLeft, withMemberChanges } from '../../src/domain/chat-members';
import {
  type EffectiveSettings,
  type GroupSettings,
  changedSettings,
  parseClockTime,
  parseGroupZone,
  parseNudgeHours,
  readSettingsSaveName,
  resolveSettings,
  settingsSaveName,
} from '../../src/domain/group-settings';

const defaults: EffectiveSettings = {
  language: 'zh_cn',
  timeZone: 'Asia/Shanghai',
  whoCreates: 'admins',
  digestTime: 'off',
  digestDays: 'workdays',
  nudgeAfterHours: 'off',
  taskSync: 'off',
  tomorrowTime: '09:00',
};

describe('group settings', () => {
  it('takes a group’s own choices and the environment’s defaults for the rest', () => {
    expect(resolveSettings(undefined, defaults)).toEqual(defaults);
    expect(resolveSettings({ language: 'en_us', nudgeAfterHours: 24 }, defaults)).toEqual({ ...defaults, language: 'en_us', nudgeAfterHours: 24 });
    // A field present but undefined (as a spread of an absent one leaves it) is absent too.
    expect(resolveSettings({ digestTime: 'off', timeZone: undefined } as unknown as GroupSettings, { ...defaults, digestTime: '09:00' })).toMatchObject({
      digestTime: 'off',
      timeZone: 'Asia/Shanghai',
    });
  });

  it('reads times, hours and zones, and refuses the rest', () => {
    expect(parseClockTime('9:00')).toBe('09:00');
    expect(parseClockTime(' 21:30 ')).toBe('21:30');
    for (const bad of ['24:00', '9', '09:60', 'nine', '09:00:00']) expect(parseClockTime(bad)).toBeUndefined();
    expect(parseNudgeHours('24')).toBe(24);
    for (const bad of ['0', '-1', '1.5', '745', 'x', '']) expect(parseNudgeHours(bad)).toBeUndefined();
    expect(parseGroupZone('europe/berlin')).toBe('Europe/Berlin');
    expect(parseGroupZone('Mars/Olympus')).toBeUndefined();
    expect(parseGroupZone(' +0800 ')).toBe('+08:00');
    expect(parseGroupZone('utc')).toBe('UTC');
    // Node would read CST as America/Chicago; a team in China means Asia/Shanghai.
    expect(parseGroupZone('CST')).toBeUndefined();
    expect(parseGroupZone('ist')).toBeUndefined();
  });

  it('names the settings that changed, in the card’s order', () => {
    expect(changedSettings(defaults, { ...defaults, tomorrowTime: '10:00', language: 'en_us' })).toEqual(['language', 'tomorrowTime']);
    expect(changedSettings(defaults, defaults)).toEqual([]);
  });
});

describe('the settings Save button’s name', () => {
  it('carries the language within 20 letters, digits and underscores, and reads back nothing else', () => {
    for (const lang of ['zh_cn', 'en_us'] as const) {
      expect(settingsSaveName(lang)).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,19}$/);
      expect(readSettingsSaveName(settingsSaveName(lang))).toBe(lang);
    }
    expect(readSettingsSaveName('settings_save')).toBeUndefined();
    expect(readSettingsSaveName('settings_save_fr_fr')).toBeUndefined();
    expect(readSettingsSaveName('submit_0123456789ab')).toBeUndefined();
    expect(readSettingsSaveName(undefined)).toBeUndefined();
  });
});

describe('who left a chat', () => {
  it('follows each person’s latest joining or leaving, ignoring an older one delivered late', () => {
    const left = withMemberChanges(undefined, ['ou_a', 'ou_b'], true, 100);
    expect([...membersWhoLeft({ memberChanges: left })].sort()).toEqual(['ou_a', 'ou_b']);
    const back = withMemberChanges(left, ['ou_a'], false, 200);
    expect([...membersWhoLeft({ memberChanges: back })]).toEqual(['ou_b']);
    // A leaving made before the joining recorded changes nothing; the same change again neither.
    expect(withMemberChanges(back, ['ou_a'], true, 150)).toBeUndefined();
    expect(withMemberChanges(back, ['ou_b'], true, 100)).toBeUndefined();
  });

  it('keeps at most its limit of people, the latest changes, so a joining still orders a late leaving', () => {
    let changes: ReturnType<typeof withMemberChanges>;
    for (let i = 0; i < MEMBER_CHANGES_LIMIT; i++) changes = withMemberChanges(changes, [`ou_${i}`], true, 100 + i);
    changes = withMemberChanges(changes, ['ou_back'], false, 5_000);
    expect(Object.keys(changes ?? {})).toHaveLength(MEMBER_CHANGES_LIMIT);
    expect(changes?.ou_0).toBeUndefined();
    // Their leaving, redelivered hours late, does not mark them gone again.
    expect(withMemberChanges(changes, ['ou_back'], true, 50)).toBeUndefined();
  });
});
