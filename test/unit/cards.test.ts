import { describe, expect, it } from 'vitest';
import { CardActionValue } from '../../cards/actions';
import { FORM_FIELDS, FORM_NAME, submitButtonName } from '../../src/domain/todo-form';
import { helpCard } from '../../cards/help';
import { noticeCard } from '../../cards/notice';
import {
  assertCardFits,
  callbackButton,
  escapeMarkdown,
  formatInstant,
  mention,
  person,
  oneLine,
  type CardComponent,
} from '../../cards/parts';
import { reminderCard, reminderHandledCard } from '../../cards/reminder';
import { todoCard } from '../../cards/todo';
import { todoListCard } from '../../cards/todo-list';
import { todoFormCard } from '../../cards/todo-form';
import { RECORD_VERSION, TODO_TEXT_LIMIT, type Todo } from '../../src/domain/model';

/** Every object with a `tag`, depth first, so tests can find components wherever they sit. */
function components(node: unknown): CardComponent[] {
  if (node === null || typeof node !== 'object') return [];
  const own = !Array.isArray(node) && typeof (node as { tag?: unknown }).tag === 'string' ? [node as CardComponent] : [];
  return [...own, ...Object.values(node).flatMap(components)];
}

function buttons(card: object): CardComponent[] {
  return components(card).filter((c) => c.tag === 'button');
}

function callbackValue(button: CardComponent): unknown {
  return (button.behaviors as Array<{ type: string; value: unknown }>)[0]?.value;
}

const AT_2026_11_24_0100Z = Date.UTC(2026, 10, 24, 1, 0);

function todo(overrides: Partial<Todo> = {}): Todo {
  return {
    v: RECORD_VERSION,
    id: 'td_1',
    formId: 'fm_1',
    chatId: 'oc_1',
    creatorId: 'ou_creator',
    text: 'Buy milk',
    timeZone: 'Asia/Shanghai',
    assigneeIds: [],
    status: 'open',
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

describe('escapeMarkdown', () => {
  it.each([
    ['<at id=all></at>', '&#60;at id=all&#62;&#60;/at&#62;'],
    ['[x](https://evil)', '&#91;x&#93;&#40;https&#58;//evil&#41;'],
    ['**bold**', '&#42;&#42;bold&#42;&#42;'],
    ['Mon 24 Nov 2026, 09:00 (America/Port_of_Spain)', 'Mon 24 Nov 2026, 09&#58;00 &#40;America/Port&#95;of&#95;Spain&#41;'],
  ])('neutralises %s', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });

  it('uses only the entities in Feishu’s documented table, and keeps newlines', () => {
    const escaped = escapeMarkdown('a\r\nb <>*~[]()#_`\\-!:$+ c\nd');
    const documented = ['&#60;', '&#62;', '&#42;', '&sim;', '&#91;', '&#93;', '&#40;', '&#41;', '&#35;', '&#95;', '&#96;', '&#92;', '&#45;', '&#33;', '&#58;', '&#36;', '&#43;'];
    for (const entity of escaped.match(/&[^;\s]+;/g) ?? []) expect(documented).toContain(entity);
    expect(escaped.replace(/&(#\d+|sim);/g, '')).not.toMatch(/[<>*~[\]()#_`\\\-!:$+\r]/);
    expect(escaped.split('\n')).toHaveLength(3);
  });

  it('leaves plain words, CJK and the characters Feishu does not list alone', () => {
    expect(escapeMarkdown('Buy milk 买牛奶 v1.2 a@b.c x|y = & z')).toBe('Buy milk 买牛奶 v1.2 a@b.c x|y = & z');
  });
});

describe('mention and person', () => {
  it('render open_ids', () => {
    expect(mention('ou_abc-9_Z')).toBe('<at id=ou_abc-9_Z></at>');
    expect(person('ou_abc')).toBe("<person id='ou_abc' show_name=true show_avatar=false style='normal'></person>");
  });

  it.each(['all', 'ou_x></at><at id=all', "ou_x' show_name=false", 'ou_', 'ou_x y', ''])('reject %j', (id) => {
    expect(() => mention(id)).toThrow(/open_id/);
    expect(() => person(id)).toThrow(/open_id/);
  });
});

describe('formatInstant', () => {
  it('shows an IANA zone', () => {
    expect(formatInstant(AT_2026_11_24_0100Z, 'Asia/Shanghai')).toBe('Tue 24 Nov 2026, 09:00 (Asia/Shanghai)');
  });

  it('follows a DST change', () => {
    // America/New_York moves from UTC-5 to UTC-4 at 07:00 UTC on 8 March 2026.
    expect(formatInstant(Date.UTC(2026, 2, 8, 6, 30), 'America/New_York')).toBe('Sun 8 Mar 2026, 01:30 (America/New_York)');
    expect(formatInstant(Date.UTC(2026, 2, 8, 7, 30), 'America/New_York')).toBe('Sun 8 Mar 2026, 03:30 (America/New_York)');
  });

  it('applies fixed offsets by arithmetic', () => {
    expect(formatInstant(AT_2026_11_24_0100Z, '+08:00')).toBe('Tue 24 Nov 2026, 09:00 (UTC+08:00)');
    expect(formatInstant(AT_2026_11_24_0100Z, '-05:30')).toBe('Mon 23 Nov 2026, 19:30 (UTC-05:30)');
    expect(formatInstant(AT_2026_11_24_0100Z, '+0800')).toBe('Tue 24 Nov 2026, 09:00 (UTC+08:00)');
  });

  it('falls back to a labelled UTC for an unknown zone', () => {
    expect(formatInstant(AT_2026_11_24_0100Z, 'Mars/Olympus')).toBe('Tue 24 Nov 2026, 01:00 (UTC)');
    expect(formatInstant(AT_2026_11_24_0100Z, '+25:00')).toBe('Tue 24 Nov 2026, 01:00 (UTC)');
  });
});

describe('todoFormCard', () => {
  const card = todoFormCard({ formId: 'fm_1', draftText: '<at id=all></at> **x**', initialDateTime: '2026-11-24 09:00' });
  const form = card.body.elements.find((e) => e.tag === 'form') as CardComponent & { elements: CardComponent[] };

  it('is a 2.0 shared card with a form at the root', () => {
    expect(card.schema).toBe('2.0');
    expect(card.config.update_multi).toBe(true);
    expect(card.header).toEqual({ title: { tag: 'plain_text', content: 'New to-do' }, template: 'blue' });
    expect(form.name).toBe(FORM_NAME);
  });

  it('gives every interactive component a unique name', () => {
    const names = components(card).flatMap((c) => (typeof c.name === 'string' ? [c.name] : []));
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining([FORM_NAME, ...Object.values(FORM_FIELDS), submitButtonName('fm_1')]));
  });

  it('prefills the draft unescaped and caps the text', () => {
    const input = form.elements.find((e) => e.tag === 'input');
    expect(input).toMatchObject({
      name: FORM_FIELDS.text,
      required: true,
      max_length: TODO_TEXT_LIMIT,
      default_value: '<at id=all></at> **x**',
      label: { tag: 'plain_text', content: 'What needs doing' },
    });
  });

  it('makes reminder and assignees optional', () => {
    expect(form.elements.find((e) => e.tag === 'picker_datetime')).toEqual({
      tag: 'picker_datetime',
      name: FORM_FIELDS.remindAt,
      required: false,
      placeholder: { tag: 'plain_text', content: 'Remind at (optional)' },
      initial_datetime: '2026-11-24 09:00',
    });
    expect(form.elements.find((e) => e.tag === 'multi_select_person')).toEqual({
      tag: 'multi_select_person',
      name: FORM_FIELDS.assignees,
      required: false,
      placeholder: { tag: 'plain_text', content: 'Assignees (optional)' },
    });
  });

  it('puts submit inside the form and cancel outside it, both with callbacks', () => {
    const submit = form.elements.find((e) => e.tag === 'button');
    expect(submit).toMatchObject({ name: submitButtonName('fm_1'), form_action_type: 'submit', type: 'primary' });
    expect(CardActionValue.parse(callbackValue(submit!))).toEqual({ action: 'todo.submit', formId: 'fm_1' });

    const cancel = card.body.elements.find((e) => e.tag === 'button');
    expect(cancel).toBeDefined();
    expect(cancel).not.toHaveProperty('form_action_type');
    expect(CardActionValue.parse(callbackValue(cancel!))).toEqual({ action: 'todo.cancel', formId: 'fm_1' });
  });

  it('omits the initial time when none is given and refuses a malformed one', () => {
    const plain = todoFormCard({ formId: 'fm_2', draftText: '' });
    expect(components(plain).find((c) => c.tag === 'picker_datetime')).not.toHaveProperty('initial_datetime');
    expect(components(plain).find((c) => c.tag === 'input')).not.toHaveProperty('default_value');
    expect(() => todoFormCard({ formId: 'fm_2', draftText: '', initialDateTime: '2026-11-24T09:00' })).toThrow(/yyyy-MM-dd HH:mm/);
  });
});

describe('todoCard', () => {
  it('renders an open to-do exactly', () => {
    const card = todoCard(
      todo({ text: 'Ship v1.2 & co: **now** <at id=all></at> [x](https://evil)', remindAt: AT_2026_11_24_0100Z, assigneeIds: ['ou_a', 'ou_b'] }),
    );
    expect(card).toEqual({
      schema: '2.0',
      config: { update_multi: true, summary: { content: 'To-do: Ship v1.2 & co: **now** <at id=all></at> [x](https…' } },
      header: {
        title: { tag: 'plain_text', content: 'To-do' },
        template: 'blue',
        text_tag_list: [{ tag: 'text_tag', text: { tag: 'plain_text', content: 'Open' }, color: 'blue' }],
      },
      body: {
        elements: [
          // As typed, in plain_text: it renders no markup, so it needs no escaping and shows no entities.
          { tag: 'div', text: { tag: 'plain_text', content: 'Ship v1.2 & co: **now** <at id=all></at> [x](https://evil)' } },
          { tag: 'hr' },
          {
            tag: 'markdown',
            content: [
              '**Next reminder:** Tue 24 Nov 2026, 09&#58;00 &#40;Asia/Shanghai&#41;',
              '**Assignees:** <at id=ou_a></at> <at id=ou_b></at>',
              "**Created by:** <person id='ou_creator' show_name=true show_avatar=false style='normal'></person>",
            ].join('\n'),
          },
          {
            tag: 'button',
            type: 'primary',
            text: { tag: 'plain_text', content: 'Done' },
            behaviors: [{ type: 'callback', value: { action: 'todo.done', todoId: 'td_1' } }],
          },
        ],
      },
    });
  });

  it('shows who finished it, offers Reopen, and honours a time zone override', () => {
    const card = todoCard(todo({ status: 'done', doneBy: 'ou_d', doneAt: AT_2026_11_24_0100Z }), { timeZone: '-05:30' });
    expect(card.header.template).toBe('green');
    expect(card.header.text_tag_list?.[0]?.text.content).toBe('Done');
    expect(JSON.stringify(card)).toContain(
      `**Done by:** ${person('ou_d')} at Mon 23 Nov 2026, 19&#58;30 &#40;UTC&#45;05&#58;30&#41;`,
    );
    expect(JSON.stringify(card)).toContain('**Assignees:** nobody yet');
    const [reopen, ...rest] = buttons(card);
    expect(rest).toEqual([]);
    expect(reopen?.text).toEqual({ tag: 'plain_text', content: 'Reopen' });
    expect(CardActionValue.parse(callbackValue(reopen!))).toEqual({ action: 'todo.reopen', todoId: 'td_1' });
  });

  it('offers no buttons once recalled', () => {
    const card = todoCard(todo({ status: 'recalled' }));
    expect(card.header.template).toBe('grey');
    expect(buttons(card)).toEqual([]);
  });

  it('keeps the summary to one short plain line', () => {
    const card = todoCard(todo({ text: `line one\n${'x'.repeat(100)}` }));
    expect(card.config.summary?.content).toBe(`To-do: line one ${'x'.repeat(41)}…`);
  });

  it('refuses a bad assignee id instead of rendering it', () => {
    expect(() => todoCard(todo({ assigneeIds: ['ou_x></at><at id=all'] }))).toThrow(/open_id/);
  });
});

describe('text people typed', () => {
  const typed = 'v1.2 & <at id=all></at> **x** [y](https://evil) a@b.c';
  const hostile = todo({ text: typed, remindAt: AT_2026_11_24_0100Z, assigneeIds: ['ou_a'] });

  it.each([
    ['the to-do card', todoCard(hostile)],
    ['a reminder', reminderCard({ todo: hostile, dueAt: AT_2026_11_24_0100Z, late: true })],
    ['a handled reminder', reminderHandledCard({ todo: hostile, outcome: 'snoozed', by: 'ou_a', until: AT_2026_11_24_0100Z })],
    ['the /todos list', todoListCard({ todos: [hostile], mine: false })],
  ])('is shown as typed, in plain_text, never inside markdown: %s', (_, card) => {
    const all = components(card);
    const plain = all.filter((c) => c.tag === 'plain_text').map((c) => c.content as string);
    expect(plain.some((content) => content.includes(typed))).toBe(true);
    for (const markdown of all.filter((c) => c.tag === 'markdown')) {
      expect(markdown.content).not.toContain('v1.2');
      expect(markdown.content).not.toContain('<at id=all>');
    }
  });
});

describe('assertCardFits', () => {
  it('throws for an absurdly large card', () => {
    expect(() => todoCard(todo({ text: '<'.repeat(30_000) }))).toThrow(/bytes/);
  });

  it('throws for too many components', () => {
    const many = Array.from({ length: 201 }, () => ({ tag: 'hr' }));
    expect(() => assertCardFits({ body: { elements: many } })).toThrow(/components/);
    expect(assertCardFits({ body: { elements: many.slice(1) } })).toBeDefined();
  });
});

describe('callbackButton', () => {
  it('writes only what the schema accepts and adds an optional confirm', () => {
    const button = callbackButton({
      text: 'Done',
      value: { action: 'todo.done', todoId: 'td_1', extra: 1 } as CardActionValue,
      confirm: { title: 'Sure?', text: 'Marks it done for everyone.' },
    });
    expect(button).toEqual({
      tag: 'button',
      type: 'default',
      text: { tag: 'plain_text', content: 'Done' },
      confirm: { title: { tag: 'plain_text', content: 'Sure?' }, text: { tag: 'plain_text', content: 'Marks it done for everyone.' } },
      behaviors: [{ type: 'callback', value: { action: 'todo.done', todoId: 'td_1' } }],
    });
  });
});

describe('noticeCard', () => {
  it('renders text as plain_text with a tone', () => {
    expect(noticeCard({ text: '<at id=all></at>', tone: 'error' })).toEqual({
      schema: '2.0',
      config: { update_multi: true },
      header: { title: { tag: 'plain_text', content: 'To-do bot' }, template: 'red' },
      body: { elements: [{ tag: 'div', text: { tag: 'plain_text', content: '<at id=all></at>' } }] },
    });
    expect(noticeCard({ text: 'hi', title: 'Heads up', tone: 'warning' }).header).toEqual({
      title: { tag: 'plain_text', content: 'Heads up' },
      template: 'orange',
    });
    expect(noticeCard({ text: 'hi' }).header.template).toBe('blue');
  });
});

describe('helpCard', () => {
  it('lists every command with its usage escaped', () => {
    const card = helpCard([
      { usage: '/todo <text>', description: 'Open a to-do form.' },
      { usage: '/help', description: 'Show this.' },
    ]);
    expect(card.body.elements).toEqual([
      {
        tag: 'markdown',
        content: '**/todo &#60;text&#62;** — Open a to&#45;do form.\n**/help** — Show this.',
      },
      { tag: 'markdown', content: 'Commands work with or without @mentioning me.', text_size: 'notation' },
    ]);
  });
});

describe('oneLine', () => {
  it('folds whitespace, keeps short text whole, and cuts long text to the limit with the ellipsis', () => {
    expect(oneLine('  a\n\tb  ', 10)).toBe('a b');
    expect(oneLine('abcdef', 6)).toBe('abcdef');
    expect(oneLine('abcdefg', 6)).toBe('abcde…');
    expect(oneLine('😀😀😀😀', 3)).toBe('😀😀…');
  });
});
