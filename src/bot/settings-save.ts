import { SETTING_LABEL, settingValueLabel } from '../../cards/settings';
import { type EffectiveSettings, type GroupSettings, type SettingName, changedSettings, readSettingsForm, resolveSettings } from '../domain/group-settings';
import { LANGUAGES, type Language } from '../domain/languages';
import { changedChat } from '../domain/model';
import type { CardActionAnswer, CardActionEvent } from '../feishu/events';
import { type MessageKey, t } from '../i18n';
import { toast } from '../i18n/feishu';
import type { Commit } from '../store/store';
import { CLICK_ADMIN_WAIT_MS, adminCheckFailure } from './admins';
import type { Services } from './services';

/** What the red toast says of each setting's bad value. */
const INVALID: Record<SettingName, MessageKey> = {
  language: 'settings.invalid.language',
  timeZone: 'settings.invalid.timeZone',
  whoCreates: 'settings.invalid.whoCreates',
  digestTime: 'settings.invalid.digestTime',
  digestDays: 'settings.invalid.digestDays',
  nudgeAfterHours: 'settings.invalid.nudgeAfterHours',
  taskSync: 'settings.invalid.taskSync',
  tomorrowTime: 'settings.invalid.tomorrowTime',
};

/** What a Save click comes to: the answer, and the record to commit for the answer to be true. */
export interface SettingsDecision {
  answer: CardActionAnswer;
  change?: Omit<Commit, 'now' | 'eventId'>;
  lang: Language;
}

/**
 * The settings form's Save, from the group it was opened for or, for a topic group (no ephemeral cards there, so the
 * card went by direct message), from the bot's direct chat with the person clicking; from any other chat it is
 * refused. Only one of the group's admins may save (whoever else clicks is refused):
 * every field is checked first and the first bad one named in a red toast, nothing saved; then the settings that
 * changed are written into the group's record (only those, so a default the environment changes later still reaches
 * the others) and named in the toast; a field the admin left as the form showed it is not written, so a change another
 * admin made since the form opened stands. The record is written only from the revision read, so two admins saving at
 * once are decided by the store. The card stays as it is after a Save, in a direct chat too: the admin may change
 * more and save again, and that Save is compared with what the first wrote (the record remembers the card's Saves).
 */
export async function saveSettings(
  services: Services,
  action: CardActionEvent,
  chatId: string,
  lang: Language,
  /** The values the form showed (absent from a client that sent the form without the button's value). */
  shown?: Readonly<Record<string, string | number>>,
): Promise<SettingsDecision> {
  const refuse = (key: MessageKey): SettingsDecision => ({
    answer: { toast: toast('error', key, lang) },
    lang,
  });
  try {
    // A direct chat has the bot and the person clicking in it alone, so a card there can only be one the bot sent them.
    if (action.chatId !== undefined && action.chatId !== chatId && (await services.admins.chatMode(action.chatId, CLICK_ADMIN_WAIT_MS)) !== 'p2p') {
      return refuse('settings.otherChat');
    }
    if (!(await services.admins.isAdmin(chatId, action.operatorId, CLICK_ADMIN_WAIT_MS))) return refuse('settings.adminsOnly');
  } catch (error) {
    return refuse(adminCheckFailure(error));
  }

  const record = await services.store.chat(chatId);
  const current = resolveSettings(record, services.config.groupDefaults);
  const read = readSettingsForm(action.formValue ?? {}, current, LANGUAGES);
  if (!read.ok) return { answer: { toast: toast('error', INVALID[read.field], lang) }, lang };
  // The card still shows what it opened with, and what earlier Saves from it wrote.
  const earlier = action.messageId !== undefined && record?.savedFrom?.messageId === action.messageId ? record.savedFrom : undefined;
  const fromThisCard = earlier?.values ?? {};
  const showing = shown && { ...shown, ...fromThisCard };
  // A field left as the form showed it is not the admin's change: another admin's since the form opened stands.
  const changed = changedSettings(current, read.value).filter((name) => showing?.[name] === undefined || showing[name] !== read.value[name]);
  if (changed.length === 0) return { answer: { toast: toast('info', 'settings.unchanged', lang) }, lang };

  const now = services.now();
  const updated = changedChat(record, chatId, { updatedAt: now });
  // Written field by field, each by its name: the record's settings are the form's fields.
  const fields = updated as unknown as Record<SettingName, unknown>;
  const values: Record<string, unknown> = { ...fromThisCard };
  // What the record held before this card's first Save of a field (null: nothing, the default followed): a value put
  // back as the card first showed it restores that, so undoing one's own change leaves a default followed again.
  const before: Record<string, string | number | null> = { ...earlier?.before };
  for (const name of changed) {
    const held = before[name];
    // Only where what the record held still means what was typed: another admin's change, or a default changed
    // since, makes the typed value a choice of its own.
    const heldMeans = name in before && resolveSettings({ [name]: held ?? undefined }, services.config.groupDefaults)[name];
    if (shown?.[name] === read.value[name] && heldMeans === read.value[name]) {
      if (held === null || held === undefined) delete fields[name];
      else fields[name] = held;
      delete before[name];
      delete values[name];
      continue;
    }
    if (!(name in before)) before[name] = (record?.[name] as string | number | undefined) ?? null;
    fields[name] = read.value[name];
    values[name] = read.value[name];
  }
  updated.savedFrom = action.messageId === undefined ? undefined : { messageId: action.messageId, values: values as GroupSettings, before };
  return {
    answer: { toast: toast('success', (each) => savedSentence(changed, read.value, each), lang) },
    change: { chats: [updated] },
    lang,
  };
}

function savedSentence(changed: SettingName[], settings: EffectiveSettings, lang: Language): string {
  const changes = changed.map((name) =>
    t(lang, 'settings.change', { name: t(lang, SETTING_LABEL[name]), value: settingValueLabel(name, settings[name], lang) }),
  );
  return t(lang, 'settings.saved', { changes: changes.join(lang === 'zh_cn' ? '；' : '; ') });
}
