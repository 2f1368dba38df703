import { DIGEST_DAYS, type EffectiveSettings, type SettingName, TASK_SYNC, WHO_CREATES, settingsSaveName } from '../src/domain/group-settings';
import { LANGUAGES } from '../src/domain/languages';
import { type Language, type MessageKey, t } from '../src/i18n';
import { type Card, type CardComponent, type Voice, botText, buildCard, markdown, plainText, privateVoice, submitButton } from './parts';

/** The settings form's name (its Save button's name carries the language: `settingsSaveName`). */
export const SETTINGS_FORM_NAME = 'settings';

/** Each setting's name as the card and the toasts say it. */
export const SETTING_LABEL: Record<SettingName, MessageKey> = {
  language: 'settings.name.language',
  timeZone: 'settings.name.timeZone',
  whoCreates: 'settings.name.whoCreates',
  digestTime: 'settings.name.digestTime',
  digestDays: 'settings.name.digestDays',
  nudgeAfterHours: 'settings.name.nudgeAfterHours',
  taskSync: 'settings.name.taskSync',
  tomorrowTime: 'settings.name.tomorrowTime',
};

const PLACEHOLDER = {
  timeZone: 'settings.placeholder.timeZone',
  digestTime: 'settings.placeholder.digestTime',
  nudgeAfterHours: 'settings.placeholder.nudgeAfterHours',
  tomorrowTime: 'settings.placeholder.tomorrowTime',
} as const satisfies Partial<Record<SettingName, MessageKey>>;

const CHOICE_LABEL = {
  whoCreates: { admins: 'settings.whoCreates.admins', everyone: 'settings.whoCreates.everyone' },
  digestDays: { workdays: 'settings.digestDays.workdays', daily: 'settings.digestDays.daily' },
  taskSync: { on: 'settings.taskSync.on', off: 'settings.taskSync.off' },
  language: { zh_cn: 'language.zh_cn', en_us: 'language.en_us' },
} as const satisfies { [N in 'whoCreates' | 'digestDays' | 'taskSync' | 'language']: Record<EffectiveSettings[N], MessageKey> };

/** A setting's value as a person reads it, in `lang` (the toast that says what changed uses the same words). */
export function settingValueLabel<N extends SettingName>(name: N, value: EffectiveSettings[N], lang: Language): string {
  if (name === 'nudgeAfterHours') return value === 'off' ? t(lang, 'settings.off') : t(lang, 'settings.afterHours', { count: value as number });
  if (name in CHOICE_LABEL) return t(lang, (CHOICE_LABEL[name as keyof typeof CHOICE_LABEL] as Record<string, MessageKey>)[String(value)] as MessageKey);
  return value === 'off' ? t(lang, 'settings.off') : String(value);
}

/**
 * The private settings form of a group, shown to the admin who sent `/settings`, in their language, with the group's
 * current values. Each field is named as its setting; choices are selects, times, hours and the zone typed inputs
 * (`off` turns the digest or nudges off), read back by `readSettingsForm`.
 */
export function settingsCard(p: { chatId: string; settings: EffectiveSettings; lang: Language }): Card {
  const voice = privateVoice(p.lang);
  const { settings } = p;
  const select = <N extends SettingName>(name: N, choices: readonly EffectiveSettings[N][]): CardComponent[] => [
    label(name, voice),
    {
      tag: 'select_static',
      name,
      required: false,
      initial_option: String(settings[name]),
      options: choices.map((choice) => ({ text: plainText((lang) => settingValueLabel(name, choice, lang), voice), value: String(choice) })),
    },
  ];
  const input = (name: 'timeZone' | 'digestTime' | 'nudgeAfterHours' | 'tomorrowTime', shown: string): CardComponent[] => [
    label(name, voice),
    {
      tag: 'input',
      name,
      required: name === 'timeZone' || name === 'tomorrowTime',
      max_length: 64,
      placeholder: plainText(PLACEHOLDER[name], voice),
      default_value: shown,
    },
  ];
  const offOr = (value: string | number) => (value === 'off' ? t(p.lang, 'settings.off') : String(value));
  return buildCard({
    voice,
    title: 'settings.title',
    template: 'blue',
    elements: [
      markdown('settings.hint', voice, { text_size: 'notation' }),
      {
        tag: 'form',
        name: SETTINGS_FORM_NAME,
        elements: [
          ...select('language', LANGUAGES),
          ...input('timeZone', settings.timeZone),
          ...select('whoCreates', WHO_CREATES),
          ...input('digestTime', offOr(settings.digestTime)),
          ...select('digestDays', DIGEST_DAYS),
          ...input('nudgeAfterHours', offOr(settings.nudgeAfterHours)),
          ...select('taskSync', TASK_SYNC),
          ...input('tomorrowTime', settings.tomorrowTime),
          submitButton({
            voice,
            text: 'settings.save',
            name: settingsSaveName(p.lang),
            value: { action: 'settings.save', chatId: p.chatId, lang: p.lang, shown: { ...settings } },
          }),
        ],
      },
    ],
  });
}

function label(name: SettingName, voice: Voice): CardComponent {
  return botText(SETTING_LABEL[name], voice);
}
