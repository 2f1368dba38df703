import { describe, expect, it } from 'vitest';
import { helpCard } from '../../cards/help';
import { noticeCard } from '../../cards/notice';
import { CARD_BYTE_BUDGET, type Card } from '../../cards/parts';
import { reminderCard, reminderHandledCard } from '../../cards/reminder';
import { todoCard } from '../../cards/todo';
import { todoFormCard } from '../../cards/todo-form';
import { todoListCard } from '../../cards/todo-list';
import { cardSize, localI18nField, validateCard } from '../../emulator';
import { COMMAND_NAMES } from '../../src/bot/commands';
import { LANGUAGES, type Language } from '../../src/domain/languages';
import { RECORD_VERSION, TODO_TEXT_LIMIT, type Todo } from '../../src/domain/model';
import { ASSIGNEE_LIMIT } from '../../src/domain/todo-form';

/**
 * Both languages on every card: a card the group sees carries each bot text in `content` (its language) and in
 * `i18n_content` (every language); a card shown to one person is in their language alone, with no i18n field (the
 * ephemeral API takes none). Every card passes the emulator's reading of Feishu's rules.
 */

const AT = Date.UTC(2026, 11, 1, 1, 0); // Tue 1 Dec 2026, 09:00 in Shanghai
const HAN = /\p{Script=Han}/u;

function todo(overrides: Partial<Todo> = {}): Todo {
  return {
    v: RECORD_VERSION,
    id: 'td_1',
    formId: 'fm_1',
    chatId: 'oc_1',
    creatorId: 'ou_creator',
    text: 'Ship the release notes',
    timeZone: 'Asia/Shanghai',
    assigneeIds: ['ou_a', 'ou_b'],
    status: 'open',
    remindAt: AT,
    repeat: 'workdays',
    repeatAnchor: AT,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

interface TextObject {
  tag: string;
  content: string;
  i18n_content?: Record<string, string>;
}

/** Every text object (plain_text, lark_md, markdown) and the summary, wherever it sits. */
function texts(node: unknown): TextObject[] {
  if (node === null || typeof node !== 'object') return [];
  const own = ['plain_text', 'lark_md', 'markdown'].includes((node as { tag?: string }).tag ?? '') ? [node as TextObject] : [];
  return [...own, ...Object.values(node).flatMap(texts)];
}

/** Every group card, in each phase, with `lang` as its default language. */
function groupCards(lang: Language, t: Todo = todo()): Array<[string, Card]> {
  return [
    ['open to-do', todoCard(t, { lang })],
    ['done to-do', todoCard({ ...t, status: 'done', doneBy: 'ou_a', doneAt: AT }, { lang })],
    ['recalled to-do', todoCard({ ...t, status: 'recalled' }, { lang })],
    ['reminder', reminderCard({ todo: t, dueAt: AT, late: false, lang, snooze: { tomorrowTime: '09:00' } })],
    ['late reminder', reminderCard({ todo: t, dueAt: AT, late: true, lang, snooze: { tomorrowTime: '09:00' } })],
    ['reminder marked done', reminderHandledCard({ todo: t, outcome: 'done', by: 'ou_a', lang })],
    ['reminder snoozed', reminderHandledCard({ todo: t, outcome: 'snoozed', by: 'ou_a', until: AT, lang })],
  ];
}

function privateCards(lang: Language): Array<[string, Card]> {
  const commands = Object.values(COMMAND_NAMES).map((names) => ({ names, description: 'command.help.description' as const }));
  return [
    ['form', todoFormCard({ formId: 'fm_1', draftText: 'Ship it', lang })],
    [
      'form with a prefilled reminder',
      todoFormCard({ formId: 'fm_1', draftText: '提交周报', lang, reminder: { initialDateTime: '2026-12-01 09:00', at: AT, timeZone: 'Asia/Shanghai' } }),
    ],
    ['notice', noticeCard({ text: 'Ship it', tone: 'error', lang })],
    ['list', todoListCard({ todos: [todo(), todo({ id: 'td_2', remindAt: undefined, repeat: 'none' })], mine: false, lang, now: 0 })],
    ['empty list of mine', todoListCard({ todos: [], mine: true, lang, now: 0 })],
    ['help', helpCard(lang, commands)],
  ];
}

const typedByPeople = new Set(['Ship the release notes', 'Ship it', '提交周报']);

describe.each(LANGUAGES)('group cards with %s as their default language', (lang) => {
  it.each(groupCards(lang))('%s: every bot text in content and in both languages, accepted by Feishu', (name, card) => {
    expect(validateCard(card)).toBeNull();
    // The status tag's texts sit in a list per language instead (i18n_text_tag_list), checked below.
    const { i18n_text_tag_list: tagLists, ...header } = card.header;
    const botTexts = texts({ ...card, header }).filter((text) => !typedByPeople.has(text.content));
    expect(botTexts.length).toBeGreaterThan(1);
    for (const text of botTexts) {
      expect(Object.keys(text.i18n_content ?? {}).sort()).toEqual(['en_us', 'zh_cn']);
      expect(text.content).toBe(text.i18n_content?.[lang]);
      expect(text.i18n_content?.zh_cn).toMatch(HAN);
    }
    expect(Object.keys(card.config.summary?.i18n_content ?? { none: '' }).sort()).toEqual(card.config.summary ? ['en_us', 'zh_cn'] : ['none']);
    expect(card.header.text_tag_list).toBeUndefined();
    // The to-do cards show their status as a tag; without this, one that lost it would skip the checks below.
    if (name.endsWith(' to-do')) expect(tagLists).toBeDefined();
    if (tagLists) {
      expect(Object.keys(tagLists).sort()).toEqual(['en_us', 'zh_cn']);
      expect(tagLists.zh_cn[0]?.text.content).toMatch(HAN);
      expect(tagLists.en_us[0]?.text.content).toMatch(/^[A-Z][a-z]+$/);
    }
  });
});

describe.each(LANGUAGES)('cards shown to one person in %s', (lang) => {
  it.each(privateCards(lang))('%s: that language only, no i18n field, accepted by Feishu', (_, card) => {
    expect(validateCard(card)).toBeNull();
    expect(localI18nField(card)).toBeNull();
    for (const { content } of texts(card).filter((text) => !typedByPeople.has(text.content))) {
      // The other language's command names (`or /帮助`) and zone names are not sentences.
      const words = content.replace(/\/\p{Script=Han}+/gu, '').replace(/[A-Z][a-z]+\/[A-Za-z_]+/g, '');
      if (lang === 'zh_cn') expect(content).toMatch(HAN);
      else expect(words).not.toMatch(HAN);
    }
  });
});

describe('the size budget with both languages', () => {
  it(`holds for the longest text and ${ASSIGNEE_LIMIT} assignees with the longest open_ids, on every group card`, () => {
    const assigneeIds = Array.from({ length: ASSIGNEE_LIMIT }, (_, i) => `ou_${String(i).padStart(61, 'f')}`);
    // The costliest characters JSON can carry: control characters (6 bytes escaped) and 4-byte emoji.
    const texts = ['\u0001'.repeat(TODO_TEXT_LIMIT), '😀'.repeat(TODO_TEXT_LIMIT), '周'.repeat(TODO_TEXT_LIMIT)];
    let largest = 0;
    for (const text of texts) {
      for (const lang of LANGUAGES) {
        for (const [name, card] of groupCards(lang, todo({ text, assigneeIds }))) {
          expect(validateCard(card), name).toBeNull();
          largest = Math.max(largest, cardSize(card));
        }
      }
    }
    expect(largest).toBeLessThanOrEqual(CARD_BYTE_BUDGET);
    console.log(
      `FIGURE: largest group card with both languages, ${TODO_TEXT_LIMIT} characters and ${ASSIGNEE_LIMIT} assignees: ${largest.toLocaleString('en')} bytes of the ${CARD_BYTE_BUDGET.toLocaleString('en')}-byte budget`,
    );
  });
});
