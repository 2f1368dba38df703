import { type Repeat, wallClock } from '../src/domain/time';
import { boundedMemo, canonicalZone, formatOffset, parseFixedOffset } from '../src/domain/zones';
import { type Language, type MessageKey, everyLanguage, t } from '../src/i18n';
import { type LocalContent, type Phrase, type Voice, localContent } from '../src/i18n/feishu';
import { CardActionValue } from './actions';

export type { Phrase, Voice };

export interface PlainText extends LocalContent {
  tag: 'plain_text';
}

/** A card shown to one person (the ephemeral API takes no i18n fields): written in their language only. */
export const privateVoice = (lang: Language): Voice => ({ lang, everyLanguage: false });
/** A card the whole group sees: `content` in `lang`, `i18n_content` in every language, each reader's shown. */
export const groupVoice = (lang: Language): Voice => ({ lang, everyLanguage: true });

/** Any card component; the card builders own their exact shapes. */
export interface CardComponent {
  tag: string;
  [key: string]: unknown;
}

export type HeaderTemplate = 'blue' | 'green' | 'grey' | 'orange' | 'red';
export type TagColor = 'blue' | 'green' | 'neutral';
export type ButtonType = 'default' | 'primary' | 'danger';

interface TextTag {
  tag: 'text_tag';
  text: PlainText;
  color: TagColor;
}

export interface Card {
  schema: '2.0';
  config: { update_multi: true; summary?: LocalContent };
  header: {
    title: PlainText;
    template: HeaderTemplate;
    /** A private card's status tags, in its one language. */
    text_tag_list?: TextTag[];
    /** A group card's: a list per language (Feishu takes one of the two fields; the i18n one wins if both are set). */
    i18n_text_tag_list?: Record<Language, TextTag[]>;
  };
  body: { elements: CardComponent[] };
}

/** Bot text in a `plain_text` object, in the voice's language(s). */
export function plainText(phrase: Phrase, voice: Voice): PlainText {
  return { tag: 'plain_text', ...localContent(phrase, voice) };
}

/** Bot-built markdown (labels, mentions, escaped times), in the voice's language(s). */
export function markdown(phrase: Phrase, voice: Voice, extra: Record<string, unknown> = {}): CardComponent {
  return { tag: 'markdown', ...localContent(phrase, voice), ...extra };
}

/** Bot text on its own line, as plain text. */
export function botText(phrase: Phrase, voice: Voice): CardComponent {
  return { tag: 'div', text: plainText(phrase, voice) };
}

function statusTags(tag: { text: Phrase; color: TagColor }, voice: Voice): Pick<Card['header'], 'text_tag_list' | 'i18n_text_tag_list'> {
  const inLanguage = (lang: Language): TextTag[] => [{ tag: 'text_tag', text: plainText(tag.text, privateVoice(lang)), color: tag.color }];
  if (!voice.everyLanguage) return { text_tag_list: inLanguage(voice.lang) };
  return { i18n_text_tag_list: everyLanguage(inLanguage) };
}

/**
 * Every card goes through here so that all of them state `update_multi: true` (PATCH requires it on both the old
 * and the new card), speak with one voice, and pass the size check.
 */
export function buildCard(p: CardParts): Card {
  return assertCardFits(composeCard(p));
}

export interface CardParts {
  voice: Voice;
  title: Phrase;
  template: HeaderTemplate;
  statusTag?: { text: Phrase; color: TagColor };
  summary?: Phrase;
  elements: CardComponent[];
}

/** `buildCard` without the size check, for a card that fits itself to Feishu's limits (`cardOverflow`). */
export function composeCard(p: CardParts): Card {
  return {
    schema: '2.0',
    config: { update_multi: true, ...(p.summary !== undefined && { summary: localContent(p.summary, p.voice) }) },
    header: {
      title: plainText(p.title, p.voice),
      template: p.template,
      ...(p.statusTag && statusTags(p.statusTag, p.voice)),
    },
    body: { elements: p.elements },
  };
}

/**
 * User text on one line, at most `max` characters counting the ellipsis that marks a cut. Characters are counted
 * as people see them (an emoji is one), so a cut never splits one.
 */
export function oneLine(text: string, max: number): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

/** A card's chat-list preview: plain text, a label and 50 characters of user text (51 with the ellipsis of a cut). */
export function chatListSummary(key: 'todoCard.summary' | 'reminder.summary' | 'nudge.summary', text: string): Phrase {
  return (lang) => t(lang, key, { text: oneLine(text, 51) });
}

/**
 * Feishu's documented escaping table for markdown, and nothing else: a client that does not decode an entity shows
 * it as typed (`v1&#46;2`), so only entities Feishu promises to decode are used.
 */
const MARKDOWN_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['<', '&#60;'],
  ['>', '&#62;'],
  ['*', '&#42;'],
  ['~', '&sim;'],
  ['[', '&#91;'],
  [']', '&#93;'],
  ['(', '&#40;'],
  [')', '&#41;'],
  ['#', '&#35;'],
  ['_', '&#95;'],
  ['`', '&#96;'],
  ['\\', '&#92;'],
  ['-', '&#45;'],
  ['!', '&#33;'],
  [':', '&#58;'],
  ['$', '&#36;'],
  ['+', '&#43;'],
]);

/**
 * Text the bot builds (times, zone names, command usages) made literal inside `markdown`, with Feishu's documented
 * entities only. What people typed never goes through here: it is shown in `plain_text`, which renders nothing.
 */
export function escapeMarkdown(text: string): string {
  return Array.from(text.replace(/\r\n?/g, '\n'), (char) => MARKDOWN_ENTITIES.get(char) ?? char).join('');
}

/**
 * Text as typed, in a text element that renders no markup at all: what people wrote goes on cards this way, in the
 * one language they wrote it in.
 */
export function typedText(content: string): CardComponent {
  return { tag: 'div', text: { tag: 'plain_text', content } };
}

const OPEN_ID = /^ou_[A-Za-z0-9_-]+$/;

/** Ids are pasted into markup unescaped, so anything but a plain open_id is refused rather than rendered. */
function checkedOpenId(openId: string): string {
  if (!OPEN_ID.test(openId)) throw new Error(`Not an open_id, refusing to put it in a card: ${JSON.stringify(openId)}`);
  return openId;
}

/** A markdown mention: notifies the person. */
export function mention(openId: string): string {
  return `<at id=${checkedOpenId(openId)}></at>`;
}

/** A markdown reference that shows the person's name without notifying them. */
export function person(openId: string): string {
  return `<person id='${checkedOpenId(openId)}' show_name=true show_avatar=false style='normal'></person>`;
}

/** A mention of someone still in the chat; someone who left it (`left`) is named without being notified. */
export function mentionIfHere(openId: string, left: ReadonlySet<string> | undefined): string {
  return left?.has(openId) ? person(openId) : mention(openId);
}

/** How a zone is named on a card: its IANA name, or `UTC+08:00` for a fixed offset; UTC for what is neither. */
export function zoneLabel(timeZone: string): string {
  const offset = parseFixedOffset(timeZone);
  if (offset !== undefined) return `UTC${formatOffset(offset)}`;
  return canonicalZone(timeZone) ?? 'UTC';
}

/** A zone the domain's clock reads: a fixed offset or a canonical name; UTC for what is neither. */
function readableZone(timeZone: string): string {
  return parseFixedOffset(timeZone) !== undefined ? timeZone : (canonicalZone(timeZone) ?? 'UTC');
}

/** The locale Intl names each language's weekdays and months in; the order comes from the catalog. */
const LOCALE: Record<Language, string> = { zh_cn: 'zh-CN', en_us: 'en-US' };
/** Chinese writes the month as a number (12月), English as a name (Dec). */
const MONTH: Record<Language, 'numeric' | 'short'> = { zh_cn: 'numeric', en_us: 'short' };

const dateNamer = boundedMemo(4, (key: string) => {
  const [lang, weekday] = key.split('|') as [Language, 'short' | 'long'];
  return new Intl.DateTimeFormat(LOCALE[lang], { timeZone: 'UTC', weekday, month: MONTH[lang] });
});

/**
 * The names of a calendar date's weekday and month in a language. Names only: which date and time an instant is in
 * a zone is the domain's `wallClock`, the one wall clock of the bot.
 */
function dateNames(date: string, lang: Language, weekday: 'short' | 'long'): { weekday: string; month: string } {
  const parts = dateNamer(`${lang}|${weekday}`).formatToParts(Date.parse(`${date}T12:00:00Z`));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return { weekday: part('weekday'), month: part('month') };
}

const twoDigits = (n: number) => String(n).padStart(2, '0');

/**
 * `Tue 1 Dec, 09:00 (Asia/Shanghai)` / `12月1日 周二 09:00（Asia/Shanghai）`. A fixed offset such as `+08:00` (the
 * form Feishu's pickers report) is labelled `UTC+08:00`. A zone that is neither falls back to UTC, labelled as
 * such: the card still shows the right instant instead of failing to render.
 */
export function formatInstant(ms: number, timeZone: string, lang: Language): string {
  const wall = wallClock(ms, readableZone(timeZone));
  const { weekday, month } = dateNames(wall.date, lang, 'short');
  const day = String(Number(wall.date.slice(8)));
  return t(lang, 'time.at', { weekday, day, month, hour: twoDigits(wall.hour), minute: twoDigits(wall.minute), zone: zoneLabel(timeZone) });
}

/**
 * A time on a card the whole group reads: in each reader's own zone (`<local_datetime>`, drawn by the client: the day
 * and the time), then after a slash the creator's-zone text, which stays readable where a client cannot draw the tag.
 * Markdown only; the instant is a number, the text escaped.
 */
export function readerTime(ms: number, timeZone: string, lang: Language): string {
  const at = Math.round(ms);
  const tag = (format: 'date_short' | 'time') => `<local_datetime millisecond='${at}' format_type='${format}'></local_datetime>`;
  return `${tag('date_short')} ${tag('time')} / ${escapeMarkdown(formatInstant(ms, timeZone, lang))}`;
}

const REPEAT_KEY: Record<Repeat, MessageKey> = {
  none: 'repeat.none',
  daily: 'repeat.daily',
  workdays: 'repeat.workdays',
  weekly: 'repeat.weekly',
};

/** The weekday a weekly to-do repeats on is named in full in English (Tuesday) and short in Chinese (周二). */
const WEEKDAY: Record<Language, 'long' | 'short'> = { zh_cn: 'short', en_us: 'long' };

/**
 * How a repeat rule reads: "Every workday (Mon–Fri)", and for a weekly to-do whose first reminder is known, the
 * weekday in its zone ("Every Tuesday", "每周二").
 */
export function repeatLabel(repeat: Repeat, lang: Language, anchor?: { at: number; timeZone: string }): string {
  if (repeat !== 'weekly' || anchor === undefined) return t(lang, REPEAT_KEY[repeat]);
  const { weekday } = dateNames(wallClock(anchor.at, readableZone(anchor.timeZone)).date, lang, WEEKDAY[lang]);
  return t(lang, 'repeat.weeklyOn', { weekday });
}

function callbackBehaviors(value: CardActionValue): Array<{ type: 'callback'; value: CardActionValue }> {
  return [{ type: 'callback', value: CardActionValue.parse(value) }];
}

/**
 * A button outside a form; the bot tells buttons apart by the callback value alone. Its text is a `plain_text`
 * object, which takes `i18n_content` like any text object (configure-multi-language-content: every `content` of a
 * plain_text, lark_md or markdown text), so a group card's buttons speak every language too.
 */
export function callbackButton(p: {
  voice: Voice;
  text: Phrase;
  value: CardActionValue;
  type?: ButtonType;
  name?: string;
  confirm?: { title: Phrase; text: Phrase };
}): CardComponent {
  return {
    tag: 'button',
    ...(p.name !== undefined && { name: p.name }),
    type: p.type ?? 'default',
    text: plainText(p.text, p.voice),
    ...(p.confirm && { confirm: { title: plainText(p.confirm.title, p.voice), text: plainText(p.confirm.text, p.voice) } }),
    behaviors: callbackBehaviors(p.value),
  };
}

/**
 * A line of a list of to-dos (the digest, `/todos`): the to-do's text, a detail in small type under it, and the line's
 * Done beside them. The text is `plain_text`, as typed: nothing in it becomes markup.
 */
export function doneLine(p: { voice: Voice; text: string; detail?: Phrase | undefined; value: CardActionValue }): CardComponent {
  return {
    tag: 'column_set',
    flex_mode: 'none',
    columns: [
      {
        tag: 'column',
        width: 'weighted',
        weight: 4,
        vertical_align: 'center',
        elements: [
          { tag: 'div', text: { tag: 'plain_text', content: p.text } },
          ...(p.detail !== undefined ? [{ tag: 'div', text: { ...plainText(p.detail, p.voice), text_size: 'notation' } }] : []),
        ],
      },
      {
        tag: 'column',
        width: 'auto',
        vertical_align: 'center',
        elements: [callbackButton({ voice: p.voice, text: 'button.done', type: 'primary', value: p.value })],
      },
    ],
  };
}

/**
 * Buttons side by side, as Feishu's own cards show them: card JSON 2.0 has no row of buttons of its own, and documents
 * a `column_set` with one auto-width column per button for it. `flow` lets a narrow screen wrap the row rather than
 * squeeze the buttons. A column set may sit inside a form, so a form's buttons make a row the same way.
 */
export function buttonRow(buttons: CardComponent[]): CardComponent[] {
  if (buttons.length < 2) return buttons;
  return [
    {
      tag: 'column_set',
      flex_mode: 'flow',
      horizontal_spacing: 'small',
      columns: buttons.map((button) => ({ tag: 'column', width: 'auto', elements: [button] })),
    },
  ];
}

/** A button that opens a link in the reader's client (an `open_url` behaviour): the click never reaches the bot. */
export function linkButton(p: { voice: Voice; text: Phrase; url: string }): CardComponent {
  return { tag: 'button', type: 'default', text: plainText(p.text, p.voice), behaviors: [{ type: 'open_url', default_url: p.url }] };
}

/**
 * A submit button of a form: a click sends every field's value together, with the button's name. A form may have
 * several, told apart by name (Feishu returns the clicked one's), so `type` sets its look.
 */
export function submitButton(p: { voice: Voice; text: Phrase; name: string; value: CardActionValue; type?: ButtonType }): CardComponent {
  return {
    tag: 'button',
    name: p.name,
    form_action_type: 'submit',
    type: p.type ?? 'primary',
    text: plainText(p.text, p.voice),
    behaviors: callbackBehaviors(p.value),
  };
}

/**
 * Feishu refuses a card message whose request body is over 30 KB (230025), the card in it a JSON string, so its
 * quotes and backslashes escaped: a card is measured so, wherever it goes (as an object, in an ephemeral send or a
 * callback's answer, it is smaller). The headroom is for the rest of the body and the style tags Feishu adds.
 */
export const CARD_BYTE_BUDGET = 28 * 1024;
export const CARD_COMPONENT_LIMIT = 200;

/** Feishu counts text elements such as `plain_text` as components too, so every tagged object counts. */
function countComponents(node: unknown): number {
  if (node === null || typeof node !== 'object') return 0;
  const own = !Array.isArray(node) && typeof (node as { tag?: unknown }).tag === 'string' ? 1 : 0;
  return Object.values(node).reduce<number>((sum, child) => sum + countComponents(child), own);
}

/** Why Feishu would refuse the card for its size (error 230025), or undefined when it fits. */
export function cardOverflow(card: object): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(JSON.stringify(card)), 'utf8');
  if (bytes > CARD_BYTE_BUDGET) return `Card JSON is ${bytes} bytes as a message's content, over the ${CARD_BYTE_BUDGET}-byte budget (Feishu's limit is 30 KB)`;
  const components = countComponents(card);
  if (components > CARD_COMPONENT_LIMIT) return `Card has ${components} components, over Feishu's limit of ${CARD_COMPONENT_LIMIT}`;
  return undefined;
}

/**
 * A card of up to `lines` lines, each a few components: as many as fit Feishu's 200 components and 30 KB (all, when
 * they do), `partsFor(shown)` counting the rest, rather than a card Feishu refuses on the day the list is longest.
 */
export function fittingCard(lines: number, partsFor: (shown: number) => CardParts): Card {
  for (let shown = lines; ; shown--) {
    const card = composeCard(partsFor(shown));
    if (shown === 0 || cardOverflow(card) === undefined) return assertCardFits(card);
  }
}

/** Fails here, with the reason, instead of at Feishu with error 230025 after the user clicked. */
export function assertCardFits<T extends object>(card: T): T {
  const overflow = cardOverflow(card);
  if (overflow !== undefined) throw new Error(overflow);
  return card;
}
