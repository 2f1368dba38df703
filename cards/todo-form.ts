import { TODO_TEXT_LIMIT } from '../src/domain/model';
import { REPEATS } from '../src/domain/time';
import { FORM_FIELDS, FORM_NAME, submitButtonName } from '../src/domain/todo-form';
import { REPEAT_LABEL, buildCard, callbackButton, plainText, submitButton, type Card } from './parts';

/** The only format `picker_datetime` accepts for `initial_datetime`; anything else makes Feishu reject the card. */
const PICKER_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/;

/** The ephemeral form an admin fills in; nothing reaches the group until Submit. */
export function todoFormCard(p: { formId: string; draftText: string; initialDateTime?: string }): Card {
  if (p.initialDateTime !== undefined && !PICKER_DATETIME.test(p.initialDateTime)) {
    throw new Error(`initialDateTime must be 'yyyy-MM-dd HH:mm', got ${JSON.stringify(p.initialDateTime)}`);
  }
  return buildCard({
    title: 'New to-do',
    template: 'blue',
    elements: [
      { tag: 'markdown', content: 'Only you can see this form. Submit posts the to-do to the group.', text_size: 'notation' },
      {
        tag: 'form',
        name: FORM_NAME,
        elements: [
          {
            tag: 'input',
            name: FORM_FIELDS.text,
            required: true,
            input_type: 'multiline_text',
            max_length: TODO_TEXT_LIMIT,
            label: plainText('What needs doing'),
            placeholder: plainText('Describe the to-do'),
            // An input's default value is shown as typed, never rendered, so the draft goes in unescaped.
            ...(p.draftText !== '' && { default_value: p.draftText }),
          },
          {
            tag: 'picker_datetime',
            name: FORM_FIELDS.remindAt,
            required: false,
            placeholder: plainText('Remind at (optional)'),
            ...(p.initialDateTime !== undefined && { initial_datetime: p.initialDateTime }),
          },
          {
            tag: 'select_static',
            name: FORM_FIELDS.repeat,
            required: false,
            placeholder: plainText('Repeat'),
            initial_option: 'none',
            options: REPEATS.map((value) => ({ text: plainText(REPEAT_LABEL[value]), value })),
          },
          // Without options the candidates are the members of the chat holding the card, which is what we want.
          {
            tag: 'multi_select_person',
            name: FORM_FIELDS.assignees,
            required: false,
            placeholder: plainText('Assignees (optional)'),
          },
          // The value names the form; so does the name, for clients that drop the value on a form submit.
          submitButton({ text: 'Submit', name: submitButtonName(p.formId), value: { action: 'todo.submit', formId: p.formId } }),
        ],
      },
      // Outside the form: a second submit button would be blocked by the required-field check.
      callbackButton({ text: 'Cancel', value: { action: 'todo.cancel', formId: p.formId } }),
    ],
  });
}
