import type { PrefilledReminder } from '../../cards/todo-form';
import type { TodoForm } from '../domain/model';
import { reminderInText } from '../domain/natural-dates';
import { wallClock } from '../domain/time';
import { groupSettings } from './group-settings';
import type { Services } from './services';

/**
 * How long the form card waits for its owner's profile zone, when the `/todo` text may name a time: a time is read
 * in the person's zone, and the card is built once. The look-up goes on after this and is stored on the form.
 */
const PROFILE_ZONE_WAIT_MS = 1_000;

/**
 * A reminder time named in the `/todo` text ("明天下午3点", "next Friday 10:00"), read in the owner's zone (their
 * profile's, else the group's) and counted from when the `/todo` was sent: the picker's initial value, and the text
 * without the date phrase. Nothing when the text names no time, or an ambiguous or past one. The admin sees both and can change them before Submit.
 */
export async function prefillFromText(services: Services, form: TodoForm): Promise<{ text: string; reminder: PrefilledReminder } | undefined> {
  if (form.draftText.trim() === '') return undefined;
  const profile = form.ownerTimeZone ?? (await services.profileZones.within(form.ownerId, PROFILE_ZONE_WAIT_MS));
  const timeZone = profile ?? (await groupSettings(services, form.chatId)).timeZone;
  const found = reminderInText(form.draftText, { now: services.now(), writtenAt: form.draftWrittenAt, zone: timeZone });
  if (!found) return undefined;
  return { text: found.text, reminder: { initialDateTime: pickerDateTime(found.remindAt, timeZone), at: found.remindAt, timeZone } };
}

/** `yyyy-MM-dd HH:mm`, the wall-clock time in `zone`: the one format `picker_datetime` takes, with no offset. */
export function pickerDateTime(at: number, zone: string): string {
  const { date, hour, minute } = wallClock(at, zone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date} ${pad(hour)}:${pad(minute)}`;
}
