import { describe, expect, it } from 'vitest';
import { CardActionValue } from '../../cards/actions';
import { DIGEST_WEEK_PEOPLE_LIMIT, digestCard } from '../../cards/digest';
import { helpCard } from '../../cards/help';
import { noticeCard } from '../../cards/notice';
import { nudgeCard } from '../../cards/nudge';
import {
  CARD_COMPONENT_LIMIT,
  type Card,
  type CardComponent,
  assertCardFits,
  callbackButton,
  escapeMarkdown,
  formatInstant,
  groupVoice,
  mention,
  oneLine,
  person,
  privateVoice,
  repeatLabel,
} from '../../cards/parts';
import { remindedPeople, reminderCard, reminderHandledCard } from '../../cards/reminder';
import { todoCard } from '../../cards/todo';
import { todoFormCard } from '../../cards/todo-form';
import { LIST_LIMIT, todoListCard } from '../../cards/todo-list';
import { parseContent } from '../../emulator/api/card-content';
import { DIGEST_LINE_LIMIT } from '../../src/domain/digest';
import { RECORD_VERSION, TODO_TEXT_LIMIT, type Todo } from '../../src/domain/model';
import { FORM_FIELDS, FORM_NAME, formButtonName } from '../../src/domain/todo-form';

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
    ['Mon 24 Nov, 09:00 (America/Port_of_Spain)', 'Mon 24 Nov, 09&#58;00 &#40;America/Port&#95;of&#95;Spain&#41;'],
  ])('neutralises %s', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });

  it('uses only the entities in Feishu’s documented table, and keeps newlines', () => {
    const escaped = escapeMarkdown('a\r\nb <>*~[]()#_`\\-!:$+ c\nd');
    const documented = [
      '&#60;',
      '&#62;',
      '&#42;',
      '&sim;',
      '&#91;',
      '&#93;',
      '&#40;',
      '&#41;',
      '&#35;',
      '&#95;',
      '&#96;',
      '&#92;',
      '&#45;',
      '&#33;',
      '&#58;',
      '&#36;',
      '&#43;',
    ];
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
  it('shows an IANA zone, in each language', () => {
    expect(formatInstant(AT_2026_11_24_0100Z, 'Asia/Shanghai', 'en_us')).toBe('Tue 24 Nov, 09:00 (Asia/Shanghai)');
    expect(formatInstant(AT_2026_11_24_0100Z, 'Asia/Shanghai', 'zh_cn')).toBe('11月24日 周二 09:00（Asia/Shanghai）');
    expect(formatInstant(Date.UTC(2026, 11, 1, 1, 0), 'Asia/Shanghai', 'zh_cn')).toBe('12月1日 周二 09:00（Asia/Shanghai）');
    expect(formatInstant(Date.UTC(2026, 11, 1, 1, 0), 'Asia/Shanghai', 'en_us')).toBe('Tue 1 Dec, 09:00 (Asia/Shanghai)');
  });

  it('follows a DST change', () => {
    // America/New_York moves from UTC-5 to UTC-4 at 07:00 UTC on 8 March 2026.
    expect(formatInstant(Date.UTC(2026, 2, 8, 6, 30), 'America/New_York', 'en_us')).toBe('Sun 8 Mar, 01:30 (America/New_York)');
    expect(formatInstant(Date.UTC(2026, 2, 8, 7, 30), 'America/New_York', 'en_us')).toBe('Sun 8 Mar, 03:30 (America/New_York)');
    expect(formatInstant(Date.UTC(2026, 2, 8, 7, 30), 'America/New_York', 'zh_cn')).toBe('3月8日 周日 03:30（America/New_York）');
  });

  it('applies fixed offsets by arithmetic', () => {
    expect(formatInstant(AT_2026_11_24_0100Z, '+08:00', 'en_us')).toBe('Tue 24 Nov, 09:00 (UTC+08:00)');
    expect(formatInstant(AT_2026_11_24_0100Z, '-05:30', 'en_us')).toBe('Mon 23 Nov, 19:30 (UTC-05:30)');
    expect(formatInstant(AT_2026_11_24_0100Z, '+0800', 'en_us')).toBe('Tue 24 Nov, 09:00 (UTC+08:00)');
    expect(formatInstant(AT_2026_11_24_0100Z, '-05:30', 'zh_cn')).toBe('11月23日 周一 19:30（UTC-05:30）');
  });

  it('falls back to a labelled UTC for an unknown zone', () => {
    expect(formatInstant(AT_2026_11_24_0100Z, 'Mars/Olympus', 'en_us')).toBe('Tue 24 Nov, 01:00 (UTC)');
    expect(formatInstant(AT_2026_11_24_0100Z, '+25:00', 'zh_cn')).toBe('11月24日 周二 01:00（UTC）');
  });
});

describe('repeatLabel', () => {
  it('names every rule in each language, and the weekday of a weekly one in its zone', () => {
    expect(repeatLabel('workdays', 'en_us')).toBe('Every workday (Mon–Fri)');
    expect(repeatLabel('workdays', 'zh_cn')).toBe('每个工作日（周一至周五）');
    expect(repeatLabel('daily', 'zh_cn')).toBe('每天');
    expect(repeatLabel('weekly', 'en_us')).toBe('Every week');
    // 01:00 UTC on Tuesday 24 November is Tuesday in Shanghai and still Monday in New York.
    expect(repeatLabel('weekly', 'en_us', { at: AT_2026_11_24_0100Z, timeZone: 'Asia/Shanghai' })).toBe('Every Tuesday');
    expect(repeatLabel('weekly', 'zh_cn', { at: AT_2026_11_24_0100Z, timeZone: 'Asia/Shanghai' })).toBe('每周二');
    expect(repeatLabel('weekly', 'en_us', { at: AT_2026_11_24_0100Z, timeZone: 'America/New_York' })).toBe('Every Monday');
    expect(repeatLabel('weekly', 'zh_cn', { at: AT_2026_11_24_0100Z, timeZone: '-05:00' })).toBe('每周一');
  });
});

describe('todoFormCard', () => {
  const reminder = { initialDateTime: '2026-11-24 09:00', at: AT_2026_11_24_0100Z, timeZone: 'Asia/Shanghai' };
  const card = todoFormCard({ formId: 'fm_1', draftText: '<at id=all></at> **x**', lang: 'en_us', reminder });
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
    expect(names).toEqual(
      expect.arrayContaining([FORM_NAME, ...Object.values(FORM_FIELDS), formButtonName('submit', 'fm_1'), formButtonName('cancel', 'fm_1')]),
    );
  });

  it('prefills the draft unescaped and caps the text', () => {
    const input = form.elements.find((e) => e.tag === 'input');
    expect(input).toMatchObject({
      name: FORM_FIELDS.text,
      // The bot checks it: the client's check would stop Cancel too.
      required: false,
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

  it('puts Submit and Cancel side by side inside the form, both submit buttons known by name and by value', () => {
    expect(card.body.elements.filter((e) => e.tag === 'button')).toEqual([]);
    const row = form.elements.at(-1) as CardComponent & { columns: Array<{ elements: CardComponent[] }> };
    expect(row).toMatchObject({ tag: 'column_set', flex_mode: 'flow' });
    const [submit, cancel, ...rest] = row.columns.flatMap((column) => column.elements);
    expect(rest).toEqual([]);
    expect(submit).toMatchObject({ name: formButtonName('submit', 'fm_1'), form_action_type: 'submit', type: 'primary' });
    expect(CardActionValue.parse(callbackValue(submit!))).toEqual({ action: 'todo.submit', formId: 'fm_1' });
    expect(cancel).toMatchObject({ name: formButtonName('cancel', 'fm_1'), form_action_type: 'submit', type: 'default' });
    expect(CardActionValue.parse(callbackValue(cancel!))).toEqual({ action: 'todo.cancel', formId: 'fm_1' });
    // No field is required in the client, or its check would stop Cancel with the text empty.
    expect(components(form).filter((c) => c.required === true)).toEqual([]);
  });

  it('says in which zone a prefilled reminder is meant', () => {
    expect(card.body.elements[1]).toEqual({
      tag: 'div',
      text: {
        tag: 'plain_text',
        content:
          'Reminder prefilled from your text: Tue 24 Nov, 09:00 (Asia/Shanghai). The time is meant in Asia/Shanghai; change it before you submit if it is not what you meant.',
      },
    });
  });

  it('omits the initial time and its note when none is given, and refuses a malformed one', () => {
    const plain = todoFormCard({ formId: 'fm_2', draftText: '', lang: 'en_us' });
    expect(components(plain).find((c) => c.tag === 'picker_datetime')).not.toHaveProperty('initial_datetime');
    expect(components(plain).find((c) => c.tag === 'input')).not.toHaveProperty('default_value');
    expect(components(plain).filter((c) => c.tag === 'div')).toEqual([]);
    expect(() => todoFormCard({ formId: 'fm_2', draftText: '', lang: 'en_us', reminder: { ...reminder, initialDateTime: '2026-11-24T09:00' } })).toThrow(
      /yyyy-MM-dd HH:mm/,
    );
  });
});

describe('todoCard', () => {
  it('renders an open to-do exactly, in both languages with English as the default content', () => {
    const card = todoCard(
      todo({ text: 'Ship v1.2 & co: **now** <at id=all></at> [x](https://evil)', remindAt: AT_2026_11_24_0100Z, assigneeIds: ['ou_a', 'ou_b'] }),
      { lang: 'en_us' },
    );
    const creator = "<person id='ou_creator' show_name=true show_avatar=false style='normal'></person>";
    // Each reader's own time first (their client draws the tag), then the creator's-zone text for clients that cannot.
    const local = `<local_datetime millisecond='${AT_2026_11_24_0100Z}' format_type='date_short'></local_datetime> <local_datetime millisecond='${AT_2026_11_24_0100Z}' format_type='time'></local_datetime>`;
    const details = {
      en_us: [
        `**Next reminder:** ${local} / Tue 24 Nov, 09&#58;00 &#40;Asia/Shanghai&#41;`,
        '**Assignees:** <at id=ou_a></at> <at id=ou_b></at>',
        `**Created by:** ${creator}`,
      ].join('\n'),
      zh_cn: [
        `**下次提醒**：${local} / 11月24日 周二 09&#58;00（Asia/Shanghai）`,
        '**负责人**：<at id=ou_a></at> <at id=ou_b></at>',
        `**创建人**：${creator}`,
      ].join('\n'),
    };
    const summary = 'Ship v1.2 & co: **now** <at id=all></at> [x](https…';
    const tag = (content: string) => [{ tag: 'text_tag', text: { tag: 'plain_text', content }, color: 'blue' }];
    expect(card).toEqual({
      schema: '2.0',
      config: { update_multi: true, summary: { content: `To-do: ${summary}`, i18n_content: { zh_cn: `待办：${summary}`, en_us: `To-do: ${summary}` } } },
      header: {
        title: { tag: 'plain_text', content: 'To-do', i18n_content: { zh_cn: '待办', en_us: 'To-do' } },
        template: 'blue',
        i18n_text_tag_list: { zh_cn: tag('未完成'), en_us: tag('Open') },
      },
      body: {
        elements: [
          // As typed, in plain_text: it renders no markup, so it needs no escaping and shows no entities.
          { tag: 'div', text: { tag: 'plain_text', content: 'Ship v1.2 & co: **now** <at id=all></at> [x](https://evil)' } },
          { tag: 'hr' },
          { tag: 'markdown', content: details.en_us, i18n_content: details },
          {
            tag: 'button',
            type: 'primary',
            text: { tag: 'plain_text', content: 'Done', i18n_content: { zh_cn: '完成', en_us: 'Done' } },
            behaviors: [{ type: 'callback', value: { action: 'todo.done', todoId: 'td_1' } }],
          },
        ],
      },
    });
  });

  it('shows who finished it, offers Reopen, and honours a time zone override', () => {
    const card = todoCard(todo({ status: 'done', doneBy: 'ou_d', doneAt: AT_2026_11_24_0100Z }), { lang: 'zh_cn', timeZone: '-05:30' });
    expect(card.header.template).toBe('green');
    expect(card.header.i18n_text_tag_list?.zh_cn[0]?.text.content).toBe('已完成');
    expect(card.header.i18n_text_tag_list?.en_us[0]?.text.content).toBe('Done');
    const json = JSON.stringify(card);
    expect(json).toContain(`**Done by:** ${person('ou_d')} at <local_datetime millisecond='${AT_2026_11_24_0100Z}' format_type='date_short'>`);
    expect(json).toContain(` / Mon 23 Nov, 19&#58;30 &#40;UTC&#45;05&#58;30&#41;`);
    expect(json).toContain(`**完成人**：${person('ou_d')}，<local_datetime`);
    expect(json).toContain(` / 11月23日 周一 19&#58;30（UTC&#45;05&#58;30）`);
    expect(json).toContain('**Assignees:** nobody yet');
    expect(json).toContain('**负责人**：暂无');
    const [reopen, ...rest] = buttons(card);
    expect(rest).toEqual([]);
    expect(reopen?.text).toEqual({ tag: 'plain_text', content: '重新打开', i18n_content: { zh_cn: '重新打开', en_us: 'Reopen' } });
    expect(CardActionValue.parse(callbackValue(reopen!))).toEqual({ action: 'todo.reopen', todoId: 'td_1' });
  });

  it('says a to-do deleted in Feishu Task stays here as it is: open, or done', () => {
    const task = { guid: 'g1', url: 'https://applink.feishu.cn/client/todo/detail?guid=g1', completed: false, deletedThere: true };
    const detailsOf = (card: object) => components(card).find((c) => c.tag === 'markdown') as CardComponent & { i18n_content: Record<string, string> };
    const open = detailsOf(todoCard(todo({ task }), { lang: 'en_us' }));
    expect(open.i18n_content.en_us).toContain('**Deleted in Feishu Task**: this to-do stays open here.');
    expect(open.i18n_content.zh_cn).toContain('**飞书任务中已删除**：此待办在群里仍未完成。');
    const done = detailsOf(todoCard(todo({ status: 'done', doneBy: 'ou_d', task }), { lang: 'en_us' }));
    expect(done.i18n_content.en_us).toContain('**Deleted in Feishu Task**: this to-do stays here, done.');
    expect(done.i18n_content.zh_cn).toContain('**飞书任务中已删除**：此待办仍留在群里，已完成。');
    expect(JSON.stringify(done)).not.toContain('stays open');
  });

  it('names the repeat rule with its weekday', () => {
    const card = todoCard(todo({ remindAt: AT_2026_11_24_0100Z, repeat: 'weekly', repeatAnchor: AT_2026_11_24_0100Z }), { lang: 'en_us' });
    const details = components(card).find((c) => c.tag === 'markdown') as CardComponent & { i18n_content: Record<string, string> };
    expect(details.i18n_content.en_us).toContain('09&#58;00 &#40;Asia/Shanghai&#41; · Every Tuesday');
    expect(details.i18n_content.zh_cn).toContain('09&#58;00（Asia/Shanghai） · 每周二');
  });

  it('offers no buttons once recalled', () => {
    const card = todoCard(todo({ status: 'recalled' }), { lang: 'en_us' });
    expect(card.header.template).toBe('grey');
    expect(buttons(card)).toEqual([]);
  });

  it('keeps the summary to one short plain line', () => {
    const card = todoCard(todo({ text: `line one\n${'x'.repeat(100)}` }), { lang: 'en_us' });
    expect(card.config.summary?.content).toBe(`To-do: line one ${'x'.repeat(41)}…`);
    expect(card.config.summary?.i18n_content?.zh_cn).toBe(`待办：line one ${'x'.repeat(41)}…`);
  });

  it('refuses a bad assignee id instead of rendering it', () => {
    expect(() => todoCard(todo({ assigneeIds: ['ou_x></at><at id=all'] }), { lang: 'en_us' })).toThrow(/open_id/);
  });
});

describe('buttons in a row', () => {
  /**
   * The card's buttons as the client lays them out: a column set's buttons make one row, side by side; a button
   * anywhere else is a row of its own. Each button is named by its English text.
   */
  function rows(node: unknown): string[][] {
    if (node === null || typeof node !== 'object') return [];
    const el = node as CardComponent;
    if (el.tag === 'column_set') {
      const columns = el.columns as Array<{ elements: CardComponent[] }>;
      return [columns.flatMap((column) => buttons(column)).map((b) => (b.text as { content: string }).content)].filter((row) => row.length > 0);
    }
    if (el.tag === 'button') return [[(el.text as { content: string }).content]];
    return Object.values(node).flatMap(rows);
  }
  const due = todo({ remindAt: AT_2026_11_24_0100Z });

  it('sets Done, Snooze 1 h and Tomorrow 9:00 side by side on a reminder, a nudge and a reminder that took over', () => {
    const row = [['Done', 'Snooze 1 h', 'Tomorrow 9:00']];
    expect(rows(reminderCard({ todo: due, dueAt: AT_2026_11_24_0100Z, late: false, lang: 'en_us', snooze: { tomorrowTime: '09:00' } }))).toEqual(row);
    expect(rows(nudgeCard({ todo: due, overdueSince: AT_2026_11_24_0100Z, zone: 'UTC', lang: 'en_us', snooze: { tomorrowTime: '09:00' } }))).toEqual(row);
    expect(rows(todoCard(due, { lang: 'en_us', asReminder: { tomorrowTime: '09:00' } }))).toEqual(row);
  });

  it('sets the to-do card’s Done beside Open in Feishu Task, and the form’s Submit beside Cancel', () => {
    const synced = todo({ task: { guid: 'tk_1', url: 'https://applink.feishu.cn/client/todo/detail?guid=tk_1', completed: false } });
    expect(rows(todoCard(synced, { lang: 'en_us' }))).toEqual([['Done', 'Open in Feishu Task']]);
    expect(rows(todoFormCard({ formId: 'fm_1', draftText: '', lang: 'en_us' }))).toEqual([['Submit', 'Cancel']]);
  });

  it('sets each digest line’s Done beside its text', () => {
    const lines = [due, todo({ id: 'td_2' })].map((t) => ({ section: 'undated' as const, todo: t }));
    const card = digestCard({ lines, now: AT_2026_11_24_0100Z, timeZone: 'UTC', lang: 'en_us' });
    const lineRows = components(card).filter((c) => c.tag === 'column_set');
    expect(lineRows).toHaveLength(2);
    for (const row of lineRows) expect(JSON.stringify(row)).toMatch(/"content":"Buy milk".*"content":"Done"/);
  });

  it('heads the lines of the same people once, whatever order each to-do names them in', () => {
    const lines = [todo({ assigneeIds: ['ou_b', 'ou_a'] }), todo({ id: 'td_2', assigneeIds: ['ou_a', 'ou_b'] })].map((t) => ({
      section: 'undated' as const,
      todo: t,
    }));
    const card = digestCard({ lines, now: AT_2026_11_24_0100Z, timeZone: 'UTC', lang: 'en_us' });
    const headings = components(card).filter((c) => c.tag === 'markdown' && JSON.stringify(c).includes('<at id='));
    expect(headings.map((c) => (c as { content?: string }).content)).toEqual(['<at id=ou_a></at> <at id=ou_b></at>']);
  });
});

describe('the Tomorrow button', () => {
  const open = todo({ remindAt: AT_2026_11_24_0100Z, assigneeIds: ['ou_a'] });
  const tomorrowButton = (card: object) => buttons(card).find((b) => (callbackValue(b) as { action?: string }).action === 'todo.tomorrow');

  it.each([
    ['a reminder', reminderCard({ todo: open, dueAt: AT_2026_11_24_0100Z, late: false, lang: 'zh_cn', snooze: { tomorrowTime: '07:30' } })],
    ['a nudge', nudgeCard({ todo: open, overdueSince: AT_2026_11_24_0100Z, zone: 'Asia/Shanghai', lang: 'zh_cn', snooze: { tomorrowTime: '07:30' } })],
    ['a to-do card that took over as the reminder', todoCard(open, { lang: 'zh_cn', asReminder: { tomorrowTime: '07:30' } })],
  ])('shows the group’s own time, in every language: %s', (_, card) => {
    expect(tomorrowButton(card)?.text).toEqual({ tag: 'plain_text', content: '明天 7:30', i18n_content: { zh_cn: '明天 7:30', en_us: 'Tomorrow 7:30' } });
  });

  it('writes the hour as people do, and an afternoon time on 24 hours', () => {
    const label = (tomorrowTime: string) =>
      (
        tomorrowButton(reminderCard({ todo: open, dueAt: AT_2026_11_24_0100Z, late: false, lang: 'en_us', snooze: { tomorrowTime } }))?.text as
          | { content: string }
          | undefined
      )?.content;
    expect(['09:00', '10:05', '18:30', '00:15'].map(label)).toEqual(['Tomorrow 9:00', 'Tomorrow 10:05', 'Tomorrow 18:30', 'Tomorrow 0:15']);
  });
});

describe('text people typed', () => {
  const typed = 'v1.2 & <at id=all></at> **x** [y](https://evil) a@b.c';
  const hostile = todo({ text: typed, remindAt: AT_2026_11_24_0100Z, assigneeIds: ['ou_a'] });

  it.each([
    ['the to-do card', todoCard(hostile, { lang: 'zh_cn' })],
    ['a reminder', reminderCard({ todo: hostile, dueAt: AT_2026_11_24_0100Z, late: true, lang: 'zh_cn', snooze: { tomorrowTime: '09:00' } })],
    ['a handled reminder', reminderHandledCard({ todo: hostile, outcome: 'snoozed', by: 'ou_a', until: AT_2026_11_24_0100Z, lang: 'en_us' })],
    ['the /todos list', todoListCard({ todos: [hostile], mine: false, lang: 'zh_cn', now: 0 })],
  ])('is shown as typed, in plain_text, never inside markdown: %s', (_, card) => {
    const all = components(card);
    const plain = all.filter((c) => c.tag === 'plain_text').map((c) => c.content as string);
    expect(plain.some((content) => content.includes(typed))).toBe(true);
    for (const markdown of all.filter((c) => c.tag === 'markdown')) {
      expect(JSON.stringify(markdown)).not.toContain('v1.2');
      expect(JSON.stringify(markdown)).not.toContain('<at id=all>');
    }
  });
});

describe('assertCardFits', () => {
  it('throws for an absurdly large card', () => {
    expect(() => todoCard(todo({ text: '<'.repeat(30_000) }), { lang: 'en_us' })).toThrow(/bytes/);
  });

  it('measures a card as Feishu does, inside the request body: a text of quotes is twice its JSON there, and Feishu refuses it', () => {
    // 6,000 quotes: 12 KB of JSON, 24 KB of request body.
    const quoted = assertCardFits({ schema: '2.0', body: { elements: [{ tag: 'markdown', content: '"'.repeat(6_000) }] } });
    expect(() => parseContent('interactive', JSON.stringify(quoted))).not.toThrow();
    // 9,000 quotes: 18 KB of JSON, 36 KB of request body.
    const tooQuoted = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: '"'.repeat(9_000) }] } };
    expect(Buffer.byteLength(JSON.stringify(tooQuoted))).toBeLessThan(20 * 1024);
    expect(() => assertCardFits(tooQuoted)).toThrow(/bytes as a message's content/);
    expect(() => parseContent('interactive', JSON.stringify(tooQuoted))).toThrow(/limit is 30720 bytes/);
  });

  it('throws for too many components', () => {
    const many = Array.from({ length: 201 }, () => ({ tag: 'hr' }));
    expect(() => assertCardFits({ body: { elements: many } })).toThrow(/components/);
    expect(assertCardFits({ body: { elements: many.slice(1) } })).toBeDefined();
  });
});

describe('digestCard within Feishu’s limits', () => {
  const overdue = (i: number, assigneeIds: string[]) => ({
    section: 'overdue' as const,
    todo: todo({ id: `td_${i}`, text: `Task ${i} `.repeat(12), remindAt: AT_2026_11_24_0100Z - 3_600_000, assigneeIds }),
  });
  const rowsOf = (card: Card) => components(card).filter((c) => c.tag === 'column_set');
  const notes = (card: Card) =>
    components(card)
      .filter((c) => c.tag === 'markdown')
      .map((c) => c.content as string);
  const week = Array.from({ length: 45 }, (_, i) => ({ personId: `ou_week${i}`, done: 45 - i, open: 2, overdue: 1 }));

  it('shows all twenty lines when they fit', () => {
    const lines = Array.from({ length: 25 }, (_, i) => overdue(i, ['ou_a']));
    const card = digestCard({ lines, now: AT_2026_11_24_0100Z, timeZone: 'UTC', lang: 'en_us' });
    expect(rowsOf(card)).toHaveLength(DIGEST_LINE_LIMIT);
    expect(notes(card)).toContain('And 5 more; /todos lists the first 20, the overdue first, /todos overdue those past due.');
  });

  it('shows as many lines as fit when each is for other people, on a Monday naming everyone’s week, and counts the rest', () => {
    // Twenty lines for twenty people: 180 components of lines and 20 of people, past Feishu's 200 on their own.
    const lines = Array.from({ length: 30 }, (_, i) => overdue(i, [`ou_p${i}`, `ou_q${i}`]));
    const card = digestCard({ lines, week, now: AT_2026_11_24_0100Z, timeZone: 'UTC', lang: 'en_us' });
    expect(() => assertCardFits(card)).not.toThrow();
    expect(components(card).length).toBeLessThanOrEqual(CARD_COMPONENT_LIMIT);
    const shown = rowsOf(card).length;
    expect(shown).toBeGreaterThan(10);
    expect(shown).toBeLessThan(DIGEST_LINE_LIMIT);
    expect(notes(card)).toContain(`And ${30 - shown} more; /todos lists the first 20, the overdue first, /todos overdue those past due.`);
    // The lines shown are the first ones, in order.
    expect(JSON.stringify(rowsOf(card).at(-1))).toContain(`Task ${shown - 1} `);
  });

  it('names the first people of the week’s numbers and counts the others, in every language', () => {
    const card = digestCard({ lines: [overdue(0, ['ou_a'])], week, now: AT_2026_11_24_0100Z, timeZone: 'UTC', lang: 'zh_cn' });
    const block = components(card).find((c) => c.tag === 'markdown' && String(c.content).includes('ou_week0')) as CardComponent;
    expect(String(block.content).match(/<at id=ou_week\d+>/g)).toHaveLength(DIGEST_WEEK_PEOPLE_LIMIT);
    expect(block.content).toContain(`<at id=ou_week${DIGEST_WEEK_PEOPLE_LIMIT - 1}>`);
    expect(block.content).not.toContain(`<at id=ou_week${DIGEST_WEEK_PEOPLE_LIMIT}>`);
    expect(block.content).toContain(`另有 ${45 - DIGEST_WEEK_PEOPLE_LIMIT} 人。`);
    expect((block.i18n_content as Record<string, string>).en_us).toContain(`And ${45 - DIGEST_WEEK_PEOPLE_LIMIT} more people.`);
  });
});

describe('callbackButton', () => {
  it('writes only what the schema accepts and adds an optional confirm, in the voice’s languages', () => {
    const button = callbackButton({
      voice: groupVoice('en_us'),
      text: 'button.done',
      value: { action: 'todo.done', todoId: 'td_1', extra: 1 } as CardActionValue,
      confirm: { title: 'todoCard.title', text: 'toast.markedDone' },
    });
    expect(button).toEqual({
      tag: 'button',
      type: 'default',
      text: { tag: 'plain_text', content: 'Done', i18n_content: { zh_cn: '完成', en_us: 'Done' } },
      confirm: {
        title: { tag: 'plain_text', content: 'To-do', i18n_content: { zh_cn: '待办', en_us: 'To-do' } },
        text: { tag: 'plain_text', content: 'Marked done.', i18n_content: { zh_cn: '已标记完成。', en_us: 'Marked done.' } },
      },
      behaviors: [{ type: 'callback', value: { action: 'todo.done', todoId: 'td_1' } }],
    });
    expect(callbackButton({ voice: privateVoice('zh_cn'), text: 'formCard.cancel', value: { action: 'todo.cancel', formId: 'f' } }).text).toEqual({
      tag: 'plain_text',
      content: '取消',
    });
  });
});

describe('noticeCard', () => {
  it('renders text as plain_text with a tone, titled in its language', () => {
    expect(noticeCard({ text: '<at id=all></at>', tone: 'error', lang: 'en_us' })).toEqual({
      schema: '2.0',
      config: { update_multi: true },
      header: { title: { tag: 'plain_text', content: 'To-do bot' }, template: 'red' },
      body: { elements: [{ tag: 'div', text: { tag: 'plain_text', content: '<at id=all></at>' } }] },
    });
    expect(noticeCard({ text: '你好', tone: 'warning', lang: 'zh_cn' }).header).toEqual({
      title: { tag: 'plain_text', content: '待办机器人' },
      template: 'orange',
    });
    expect(noticeCard({ text: 'hi', lang: 'en_us' }).header.template).toBe('blue');
  });
});

describe('reminderHandledCard', () => {
  it('says what became of a to-do closed elsewhere, and offers nothing to press', () => {
    const said = (overrides: Partial<Todo>) => {
      const card = reminderHandledCard({ todo: todo(overrides), outcome: 'closed', lang: 'en_us' });
      expect(buttons(card)).toEqual([]);
      return JSON.stringify(card.body.elements);
    };
    expect(said({ status: 'done', doneBy: 'ou_d' })).toContain(`Marked done by ${person('ou_d')}.`);
    expect(said({ status: 'done', doneVia: 'feishu_task' })).toContain('Done in Feishu Task');
    expect(said({ status: 'recalled' })).toContain('This to-do was recalled.');
    expect(said({ status: 'post_failed' })).toContain('This to-do is no longer open');
  });
});

describe('todoListCard', () => {
  const textOf = (card: Card) => JSON.stringify(card.body.elements);

  it('names what a combined filter lists, and says nothing matched rather than that nothing is yours', () => {
    const mineOverdue = todoListCard({ todos: [], mine: true, overdue: true, lang: 'en_us', now: 0 });
    expect(mineOverdue.header.title.content).toBe('Your overdue to-dos');
    expect(textOf(mineOverdue)).toContain('No open to-do here matches.');
    expect(textOf(todoListCard({ todos: [], mine: true, people: ['ou_bea'], lang: 'en_us', now: 0 }))).toContain('No open to-do here matches.');
    const mine = todoListCard({ todos: [], mine: true, lang: 'en_us', now: 0 });
    expect(mine.header.title.content).toBe('Your open to-dos');
    expect(textOf(mine)).toContain('You have no open to-dos here.');
  });

  it('gives each of its twenty lines a Done for its to-do, and counts the rest', () => {
    const todos = Array.from({ length: 25 }, (_, i) =>
      todo({ id: `td_${i}`, text: `Task ${i} `.repeat(12), source: { messageId: `om_src_${i}`, senderName: 'Bea Li' } }),
    );
    const card = todoListCard({ todos, mine: false, lang: 'en_us', now: 0 });
    expect(() => assertCardFits(card)).not.toThrow();
    const done = components(card)
      .filter((c) => c.tag === 'button')
      .map((c) => JSON.stringify(c.behaviors));
    expect(done).toHaveLength(LIST_LIMIT);
    expect(done[LIST_LIMIT - 1]).toBe(JSON.stringify([{ type: 'callback', value: { action: 'todo.listDone', todoId: `td_${LIST_LIMIT - 1}` } }]));
    expect(textOf(card)).toContain('…and 5 more.');
  });

  it('fits twenty of the longest lines in Chinese, each with its Done, and counts the rest', () => {
    const todos = Array.from({ length: 25 }, (_, i) =>
      todo({
        id: `td_${i}`,
        text: `${i}号${'😀'.repeat(80)}`,
        timeZone: 'America/Argentina/ComodRivadavia',
        repeat: 'weekly',
        source: { messageId: `om_src_${i}`, senderName: '😀'.repeat(40) },
      }),
    );
    const card = todoListCard({ todos, mine: false, lang: 'zh_cn', now: 0 });
    expect(() => assertCardFits(card)).not.toThrow();
    const shown = components(card).filter((c) => c.tag === 'button').length;
    expect(shown).toBe(LIST_LIMIT);
    expect(textOf(card)).toContain('……还有 5 项。');
    expect(textOf(card)).not.toContain('没有');
  });
});

describe('helpCard', () => {
  const commands = [
    { names: { en_us: 'todo', zh_cn: '待办' }, args: 'command.todo.args', description: 'command.help.description' },
    { names: { en_us: 'help', zh_cn: '帮助' }, description: 'command.help.description' },
  ] as const;

  it('lists every command under its English name first, its usage escaped, for an English reader', () => {
    expect(helpCard('en_us', commands).body.elements).toEqual([
      {
        tag: 'markdown',
        content: '**/todo &#91;text&#93;** or /待办 — Show this list of commands.\n**/help** or /帮助 — Show this list of commands.',
      },
      { tag: 'markdown', content: "In a group, @mention me with a command, unless this app may read all of the group's messages.", text_size: 'notation' },
    ]);
  });

  it('lists the Chinese names first for a Chinese reader', () => {
    const card = helpCard('zh_cn', commands);
    expect(card.header.title).toEqual({ tag: 'plain_text', content: '待办机器人命令' });
    expect(card.body.elements[0]).toEqual({
      tag: 'markdown',
      content: '**/待办 &#91;内容&#93;** 或 /todo — 显示这份命令列表。\n**/帮助** 或 /help — 显示这份命令列表。',
    });
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

describe('who a reminder mentions', () => {
  it('mentions the assignees still in the chat, else the creator, named without a mention once they left too', () => {
    const twoAssigned = todo({ assigneeIds: ['ou_a', 'ou_b'], creatorId: 'ou_creator' });
    expect(remindedPeople(twoAssigned, new Set(['ou_b']))).toBe('<at id=ou_a></at>');
    expect(remindedPeople(twoAssigned, new Set(['ou_a', 'ou_b']))).toBe('<at id=ou_creator></at>');
    const everyoneGone = remindedPeople(twoAssigned, new Set(['ou_a', 'ou_b', 'ou_creator']));
    expect(everyoneGone).toContain("<person id='ou_creator'");
    expect(everyoneGone).not.toContain('<at ');
  });
});
