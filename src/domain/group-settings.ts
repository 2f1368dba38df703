import { LANGUAGES, type Language } from './languages';
import { canonicalZone, zoneAbbreviation } from './zones';

/**
 * What a group's admins chose for it (`/settings`). Every field is optional: an absent one means the environment's
 * default, so a default changed in the environment reaches every group that never chose otherwise. The one reader is
 * `resolveSettings`, which fills the gaps; nothing else looks at a chat's record to decide behaviour.
 */

export const WHO_CREATES = ['admins', 'everyone'] as const;
export type WhoCreates = (typeof WHO_CREATES)[number];
export const DIGEST_DAYS = ['workdays', 'daily'] as const;
export type DigestDays = (typeof DIGEST_DAYS)[number];
export const TASK_SYNC = ['on', 'off'] as const;
export type TaskSync = (typeof TASK_SYNC)[number];

/** A wall-clock time, `HH:MM` on 24 hours (`09:00`, `17:30`). */
export type ClockTime = string;

export interface GroupSettings {
  /** The language of the bot's private cards and notices in the group (also `/lang`). */
  language?: Language;
  /**
   * The canonical zone the group's digest and quiet hours are read in. "Tomorrow" is the clicker's tomorrow, so it
   * falls back to this zone only when neither their device nor their profile tells theirs.
   */
  timeZone?: string;
  /** Who may open the to-do form. */
  whoCreates?: WhoCreates;
  digestTime?: ClockTime | 'off';
  digestDays?: DigestDays;
  /** Hours after an unfinished to-do's time before it is nudged. */
  nudgeAfterHours?: number | 'off';
  /** Whether the group's to-dos are also Feishu Tasks. */
  taskSync?: TaskSync;
  /** The time the "Tomorrow" button means. */
  tomorrowTime?: ClockTime;
}

/** Every setting, decided: a group's own choice, else the environment's default. */
export type EffectiveSettings = Required<GroupSettings>;

/** The setting names, in the order the settings card shows them. */
export const SETTING_NAMES = [
  'language',
  'timeZone',
  'whoCreates',
  'digestTime',
  'digestDays',
  'nudgeAfterHours',
  'taskSync',
  'tomorrowTime',
] as const satisfies readonly (keyof GroupSettings)[];
export type SettingName = (typeof SETTING_NAMES)[number];

/** The most hours a nudge may wait: a month. */
export const MAX_NUDGE_HOURS = 24 * 31;

export function resolveSettings(chosen: GroupSettings | undefined, defaults: EffectiveSettings): EffectiveSettings {
  const settings = { ...defaults };
  for (const name of SETTING_NAMES) {
    const value = chosen?.[name];
    if (value !== undefined) (settings as Record<SettingName, unknown>)[name] = value;
  }
  return settings;
}

const CLOCK_TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** `9:00`, `09:00` and `21:30` as `HH:MM`; undefined for anything else. */
export function parseClockTime(text: string): ClockTime | undefined {
  const match = CLOCK_TIME.exec(text.trim());
  return match ? `${(match[1] as string).padStart(2, '0')}:${match[2]}` : undefined;
}

/** The hour and minute of an `HH:MM`. */
export function clockParts(time: ClockTime): { hour: number; minute: number } {
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  return { hour, minute };
}

/** A whole number of hours from 1 to a month. */
export function parseNudgeHours(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,4}$/.test(trimmed)) return undefined;
  const hours = Number(trimmed);
  return hours >= 1 && hours <= MAX_NUDGE_HOURS ? hours : undefined;
}

/**
 * A zone a group may choose: an IANA name or a fixed offset, canonicalised. Not an abbreviation: Node reads `CST` as
 * America/Chicago, and a team in China that typed it would get its digest 14 hours off (DEFAULT_TIME_ZONE refuses
 * them too).
 */
export function parseGroupZone(text: string): string | undefined {
  const trimmed = text.trim();
  return zoneAbbreviation(trimmed) ? undefined : canonicalZone(trimmed);
}

/** The settings whose values differ between two resolved sets, in the card's order. */
export function changedSettings(before: EffectiveSettings, after: EffectiveSettings): SettingName[] {
  return SETTING_NAMES.filter((name) => before[name] !== after[name]);
}

/** The words that turn the digest or nudges off, in either language; an empty field does too. */
const OFF_WORDS = new Set(['', 'off', 'no', 'none', '关', '关闭', '不', '无']);
const isOff = (text: string) => OFF_WORDS.has(text.trim().toLowerCase());

export type SettingsReading = { ok: true; value: EffectiveSettings } | { ok: false; field: SettingName };

/**
 * The settings a submitted settings form asks for: each field named as its setting, read as the card wrote it (a
 * select's value, or typed text); a field the client left out keeps the current value. The first field that does
 * not read is named, so the admin is told which one to correct.
 */
export function readSettingsForm(formValue: Readonly<Record<string, unknown>>, current: EffectiveSettings, languages: readonly Language[]): SettingsReading {
  const next: EffectiveSettings = { ...current };
  // NFKC: what a Chinese input method types, "9：30" and full-width digits among it, reads as "9:30".
  const text = (name: SettingName) => (typeof formValue[name] === 'string' ? (formValue[name] as string).normalize('NFKC') : undefined);
  const readers: { [N in SettingName]: (raw: string) => EffectiveSettings[N] | undefined } = {
    language: (raw) => languages.find((lang) => lang === raw),
    timeZone: parseGroupZone,
    whoCreates: (raw) => WHO_CREATES.find((choice) => choice === raw),
    digestTime: (raw) => (isOff(raw) ? 'off' : parseClockTime(raw)),
    digestDays: (raw) => DIGEST_DAYS.find((choice) => choice === raw),
    nudgeAfterHours: (raw) => (isOff(raw) ? 'off' : parseNudgeHours(raw)),
    taskSync: (raw) => TASK_SYNC.find((choice) => choice === raw),
    tomorrowTime: parseClockTime,
  };
  for (const name of SETTING_NAMES) {
    if (formValue[name] === undefined) continue;
    const raw = text(name);
    const value = raw === undefined ? undefined : readers[name](raw);
    if (value === undefined) return { ok: false, field: name };
    (next as Record<SettingName, unknown>)[name] = value;
  }
  return { ok: true, value: next };
}

/**
 * The settings form's Save button name, carrying the form's language, since some Feishu clients send a form's submit
 * without the button's value (the to-do form's buttons do the same). The group is the chat the click comes from; a
 * chat id would break Feishu's strictest identifier rule (at most 20 characters), which `settings_save_zh_cn` keeps.
 */
export function settingsSaveName(lang: Language): string {
  return `settings_save_${lang}`;
}

/** The language a Save button's name carries, or undefined for any other name. */
export function readSettingsSaveName(name: string | undefined): Language | undefined {
  return LANGUAGES.find((lang) => name === settingsSaveName(lang));
}
