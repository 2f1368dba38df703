import { TODO_TEXT_LIMIT } from '../src/domain/model';
import { REPEATS } from '../src/domain/time';
import { FORM_FIELDS, FORM_NAME, formButtonName } from '../src/domain/todo-form';
import { type Language, t } from '../src/i18n';
import { type Card, botText, buildCard, buttonRow, formatInstant, markdown, plainText, privateVoice, repeatLabel, submitButton, zoneLabel } from './parts';

/** The only format `picker_datetime` accepts for `initial_datetime`; anything else makes Feishu reject the card. */
const PICKER_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/;

/** A reminder read out of the `/todo` text: the picker's initial value, and the instant and zone it means. */
export interface PrefilledReminder {
  /** `yyyy-MM-dd HH:mm`, the wall-clock time in `timeZone`. */
  initialDateTime: string;
  at: number;
  timeZone: string;
}

/**
 * The ephemeral form an admin fills in, in their language (the ephemeral API takes no i18n fields); nothing reaches
 * the group until Submit. A reminder read out of the text prefills the picker, and the card says in which zone
 * that time is meant, since Feishu does not document the zone a picker shows its initial value in.
 */
export function todoFormCard(p: {
  formId: string;
  draftText: string;
  lang: Language;
  reminder?: PrefilledReminder | undefined;
  /**
   * For a form sent by direct message: the group's members, as the person picker's options. Without options a picker
   * offers the members of the chat holding the card, which in a direct chat is the owner alone.
   */
  members?: string[] | undefined;
}): Card {
  const { reminder } = p;
  if (reminder !== undefined && !PICKER_DATETIME.test(reminder.initialDateTime)) {
    throw new Error(`initialDateTime must be 'yyyy-MM-dd HH:mm', got ${JSON.stringify(reminder.initialDateTime)}`);
  }
  const voice = privateVoice(p.lang);
  const prefilled = (r: PrefilledReminder) => (lang: Language) =>
    t(lang, 'formCard.prefilled', { time: formatInstant(r.at, r.timeZone, lang), zone: zoneLabel(r.timeZone) });
  return buildCard({
    voice,
    title: 'formCard.title',
    template: 'blue',
    elements: [
      markdown(p.members !== undefined ? 'formCard.hintDirect' : 'formCard.hint', voice, { text_size: 'notation' }),
      ...(reminder !== undefined ? [botText(prefilled(reminder), voice)] : []),
      {
        tag: 'form',
        name: FORM_NAME,
        elements: [
          {
            tag: 'input',
            name: FORM_FIELDS.text,
            // Not required in the client: its check would also stop Cancel, a submit button of the same form. The
            // bot refuses an empty text itself, with a toast naming the field, and the form stays open.
            required: false,
            input_type: 'multiline_text',
            max_length: TODO_TEXT_LIMIT,
            label: plainText('formCard.textLabel', voice),
            placeholder: plainText('formCard.textPlaceholder', voice),
            // An input's default value is shown as typed, never rendered, so the draft goes in unescaped.
            ...(p.draftText !== '' && { default_value: p.draftText }),
          },
          {
            tag: 'picker_datetime',
            name: FORM_FIELDS.remindAt,
            required: false,
            placeholder: plainText('formCard.remindPlaceholder', voice),
            ...(reminder !== undefined && { initial_datetime: reminder.initialDateTime }),
          },
          {
            tag: 'select_static',
            name: FORM_FIELDS.repeat,
            required: false,
            placeholder: plainText('formCard.repeatPlaceholder', voice),
            initial_option: 'none',
            options: REPEATS.map((value) => ({ text: plainText((lang) => repeatLabel(value, lang), voice), value })),
          },
          // Without options the candidates are the members of the chat holding the card: the group, for an ephemeral form.
          {
            tag: 'multi_select_person',
            name: FORM_FIELDS.assignees,
            required: false,
            placeholder: plainText('formCard.assigneesPlaceholder', voice),
            ...(p.members !== undefined && p.members.length > 0 && { options: p.members.map((value) => ({ value })) }),
          },
          // Submit and Cancel side by side, both submit buttons of the form (a button inside a form must be one). The
          // value names the form and the action; so does the name, for clients that drop the value on a form submit.
          ...buttonRow([
            submitButton({ voice, text: 'formCard.submit', name: formButtonName('submit', p.formId), value: { action: 'todo.submit', formId: p.formId } }),
            submitButton({
              voice,
              text: 'formCard.cancel',
              type: 'default',
              name: formButtonName('cancel', p.formId),
              value: { action: 'todo.cancel', formId: p.formId },
            }),
          ]),
        ],
      },
    ],
  });
}
