/**
 * Card JSON 2.0 as Feishu enforces it (/work/shared/feishu-cards.md). Where the docs say a thing is "ignored or
 * rejected", the emulator rejects, so a card that passes here passes on either reading.
 */

export const CARD_SIZE_LIMIT = 30 * 1024;
const MAX_TAGGED = 200;
const MAX_CONTAINER_DEPTH = 5;
const MAX_TEXT = 100;

const CONTAINERS = new Set(['column_set', 'form', 'interactive_container', 'collapsible_panel']);
const DISPLAY = ['div', 'markdown', 'img', 'img_combination', 'person', 'person_list', 'chart', 'table', 'hr', 'audio'];
/** Inside a form these need a non-empty, card-unique `name`, or submitting fails (client error 200530). */
const FORM_FIELDS = new Set([
  'input',
  'button',
  'select_static',
  'multi_select_static',
  'select_img',
  'select_person',
  'multi_select_person',
  'date_picker',
  'picker_time',
  'picker_datetime',
  'checker',
]);
const KNOWN_TAGS = new Set([...CONTAINERS, ...DISPLAY, ...FORM_FIELDS, 'overflow']);
const REMOVED_TAGS: Record<string, string> = {
  action: 'the "action" module was removed in schema 2.0 (200861): put buttons directly in elements',
  note: 'the "note" component was removed in schema 2.0 (200861)',
};
const OPEN_URL_HOSTS = new Set(['button', 'column_set', 'column', 'interactive_container']);
const TOP_LEVEL_KEYS = new Set(['schema', 'config', 'card_link', 'header', 'body', 'i18n_header']);
const HEADER_TEMPLATES = new Set([
  'blue',
  'wathet',
  'turquoise',
  'green',
  'yellow',
  'orange',
  'red',
  'carmine',
  'violet',
  'purple',
  'indigo',
  'grey',
  'default',
]);
const BUTTON_TYPES = new Set(['default', 'primary', 'danger', 'text', 'primary_text', 'danger_text', 'primary_filled', 'danger_filled', 'laser']);
const ELEMENT_ID = /^[A-Za-z][A-Za-z0-9_]{0,19}$/;
const DATE_PART = String.raw`\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])`;
const TIME_PART = String.raw`([01]\d|2[0-3]):[0-5]\d`;
const DATE = new RegExp(`^${DATE_PART}$`);
const TIME = new RegExp(`^${TIME_PART}$`);
const DATETIME = new RegExp(`^${DATE_PART} ${TIME_PART}$`);
/** The 16 languages of Feishu's local i18n fields (configure-multi-language-content). */
export const CARD_LANGUAGES = new Set([
  'zh_cn',
  'en_us',
  'zh_hk',
  'zh_tw',
  'ja_jp',
  'id_id',
  'vi_vn',
  'th_th',
  'pt_br',
  'es_es',
  'ko_kr',
  'de_de',
  'fr_fr',
  'it_it',
  'ru_ru',
  'ms_my',
]);
/** The text objects whose `content` has an `i18n_content` twin. */
const TEXT_TAGS = new Set(['plain_text', 'lark_md', 'markdown']);
const TOAST_TYPES = new Set(['info', 'success', 'error', 'warning']);

/** Bytes of the card's JSON, the measure of Feishu's 30 KB limit. */
export function cardSize(card: unknown): number {
  return Buffer.byteLength(JSON.stringify(card) ?? '', 'utf8');
}

/** null when Feishu would accept the card, else the first rule it breaks, with the JSON path. */
export function validateCard(card: unknown): string | null {
  try {
    new CardWalker().card(card);
    return null;
  } catch (error) {
    if (error instanceof CardRuleError) return error.message;
    throw error;
  }
}

class CardRuleError extends Error {}

type Json = Record<string, unknown>;

interface Place {
  path: string;
  depth: number;
  form: string | null;
  /** Directly in body.elements, the only place a form may sit. */
  root: boolean;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function fail(path: string, reason: string): never {
  throw new CardRuleError(path ? `${path}: ${reason}` : reason);
}

class CardWalker {
  private readonly names = new Set<string>();
  private readonly elementIds = new Set<string>();
  private submitButtons = 0;

  card(card: unknown): void {
    if (!isObject(card)) fail('', 'the card must be a JSON object');
    if (card.schema !== '2.0') fail('schema', 'must be "2.0"');
    for (const key of Object.keys(card)) {
      if (key === 'elements' || key === 'i18n_elements') fail(key, 'not allowed in schema 2.0; use body.elements');
      if (!TOP_LEVEL_KEYS.has(key)) fail(key, 'unknown top-level attribute');
    }
    if (countTagged(card) > MAX_TAGGED) fail('', `more than ${MAX_TAGGED} components and text elements`);
    localI18n(card, '');
    if (card.config !== undefined) this.config(card.config);
    if (card.header !== undefined) this.header(card.header);
    if (card.body === undefined) return;
    if (!isObject(card.body)) fail('body', 'must be an object');
    if (card.body.elements === undefined) return;
    this.elements(card.body.elements, { path: 'body', depth: 0, form: null, root: true });
  }

  private config(config: unknown): void {
    if (!isObject(config)) fail('config', 'must be an object');
    if (config.update_multi !== undefined && config.update_multi !== true) {
      fail('config.update_multi', 'may only be true in schema 2.0');
    }
    if (config.summary !== undefined) {
      const summary = config.summary;
      if (!isObject(summary) || (typeof summary.content !== 'string' && summary.i18n_content === undefined)) {
        fail('config.summary', 'must be {content, i18n_content}');
      }
      for (const key of Object.keys(summary)) {
        if (key !== 'content' && key !== 'i18n_content') fail(`config.summary.${key}`, 'unknown attribute');
      }
    }
  }

  private header(header: unknown): void {
    if (!isObject(header)) fail('header', 'must be an object');
    const title = header.title;
    if (!isObject(title) || (typeof title.content !== 'string' && title.i18n_content === undefined)) {
      fail('header.title', 'is required when a header is present (content or i18n_content)');
    }
    if (title.tag !== 'plain_text' && title.tag !== 'lark_md') {
      fail('header.title.tag', 'must be plain_text or lark_md');
    }
    // "text_tag_list 和 i18n_text_tag_list 只能配置其中之一" (title.md, 2.0): one or the other.
    if (header.text_tag_list !== undefined && header.i18n_text_tag_list !== undefined) {
      fail('header', 'text_tag_list and i18n_text_tag_list exclude each other: set one');
    }
    if (header.text_tag_list !== undefined) textTags(header.text_tag_list, 'header.text_tag_list');
    if (header.i18n_text_tag_list !== undefined) {
      const lists = header.i18n_text_tag_list;
      if (!isObject(lists) || Object.keys(lists).length === 0) fail('header.i18n_text_tag_list', 'must be an object of tag lists by language');
      for (const [lang, list] of Object.entries(lists)) {
        if (!CARD_LANGUAGES.has(lang)) fail(`header.i18n_text_tag_list.${lang}`, 'unknown language');
        textTags(list, `header.i18n_text_tag_list.${lang}`);
      }
    }
    if (header.template !== undefined && !HEADER_TEMPLATES.has(String(header.template))) {
      fail('header.template', `unknown template "${String(header.template)}"`);
    }
  }

  private elements(elements: unknown, parent: Place): void {
    if (!Array.isArray(elements)) fail(`${parent.path}.elements`, 'must be an array');
    elements.forEach((element, i) => {
      this.element(element, { ...parent, path: `${parent.path}.elements[${i}]` });
    });
  }

  private element(element: unknown, place: Place): void {
    const { path } = place;
    if (!isObject(element) || typeof element.tag !== 'string') fail(path, 'an element needs a string tag');
    const tag = element.tag;
    const where = `${path} (${tag})`;
    const removed = REMOVED_TAGS[tag];
    if (removed) fail(where, removed);
    if (tag === 'column') fail(where, 'a column is only allowed in column_set.columns');
    if (!KNOWN_TAGS.has(tag)) fail(where, `unknown tag "${tag}"`);
    this.identity(element, where);
    if (element.required !== undefined && !place.form) fail(where, '"required" only works inside a form');
    if (place.form && FORM_FIELDS.has(tag) && !nonEmptyString(element.name)) {
      fail(where, 'inside a form every interactive component needs a non-empty name (client error 200530)');
    }
    if (element.behaviors !== undefined) behaviors(element.behaviors, tag, where);
    if (element.placeholder !== undefined) shortPlainText(element.placeholder, `${where}.placeholder`);
    if (element.confirm !== undefined) confirm(element.confirm, `${where}.confirm`);
    this.byTag(tag, element, place, where);
  }

  /** element_id and name are both unique across the whole card. */
  private identity(element: Json, where: string): void {
    const id = element.element_id;
    if (id !== undefined) {
      if (typeof id !== 'string' || !ELEMENT_ID.test(id)) {
        fail(where, 'element_id must start with a letter, use letters/digits/underscore, at most 20 chars');
      }
      if (this.elementIds.has(id)) fail(where, `duplicate element_id "${id}"`);
      this.elementIds.add(id);
    }
    if (nonEmptyString(element.name)) {
      if (this.names.has(element.name)) fail(where, `duplicate name "${element.name}"`);
      this.names.add(element.name);
    }
  }

  private byTag(tag: string, element: Json, place: Place, where: string): void {
    if (CONTAINERS.has(tag) && place.depth + 1 > MAX_CONTAINER_DEPTH) {
      fail(where, `containers nest more than ${MAX_CONTAINER_DEPTH} levels`);
    }
    const inside: Place = { path: place.path, depth: place.depth + 1, form: place.form, root: false };
    switch (tag) {
      case 'form':
        return this.form(element, place, inside, where);
      case 'table':
        if (place.form) fail(where, 'a form cannot contain a table');
        return;
      case 'column_set':
        return this.columnSet(element, inside, where);
      case 'interactive_container':
      case 'collapsible_panel':
        if (element.elements !== undefined) this.elements(element.elements, inside);
        return;
      case 'button':
        return this.button(element, place, where);
      case 'input':
        return input(element, where);
      case 'date_picker':
        return picker(element, 'initial_date', DATE, 'yyyy-MM-dd', where);
      case 'picker_time':
        return picker(element, 'initial_time', TIME, 'HH:mm', where);
      case 'picker_datetime':
        return picker(element, 'initial_datetime', DATETIME, 'yyyy-MM-dd HH:mm', where);
      case 'multi_select_person':
        if (!place.form) fail(where, 'multi_select_person is only allowed inside a form');
        return;
      case 'overflow':
        return overflow(element, where);
      case 'markdown':
        if (typeof element.content !== 'string' && element.i18n_content === undefined) {
          fail(where, 'content is required');
        }
        return;
      case 'hr':
        for (const key of Object.keys(element)) {
          if (!['tag', 'element_id', 'margin'].includes(key)) fail(where, `hr takes no "${key}"`);
        }
        return;
    }
  }

  private form(element: Json, place: Place, inside: Place, where: string): void {
    if (place.form) fail(where, 'a form cannot contain another form');
    if (!place.root) fail(where, 'a form must sit directly in body.elements');
    if (!nonEmptyString(element.name)) fail(where, 'a form needs a non-empty name');
    this.submitButtons = 0;
    this.elements(element.elements ?? [], { ...inside, form: element.name });
    if (this.submitButtons === 0) fail(where, 'a form needs a button with form_action_type "submit"');
  }

  private columnSet(element: Json, inside: Place, where: string): void {
    if (!Array.isArray(element.columns)) fail(where, 'columns is required');
    element.columns.forEach((column, i) => {
      const path = `${inside.path}.columns[${i}]`;
      if (!isObject(column) || column.tag !== 'column') fail(path, 'column_set.columns holds only "column" elements');
      this.identity(column, path);
      if (column.behaviors !== undefined) behaviors(column.behaviors, 'column', path);
      if (column.elements !== undefined) this.elements(column.elements, { ...inside, path });
    });
  }

  private button(element: Json, place: Place, where: string): void {
    if (element.type !== undefined && !BUTTON_TYPES.has(String(element.type))) {
      fail(where, `unknown button type "${String(element.type)}"`);
    }
    if (element.text !== undefined) shortPlainText(element.text, `${where}.text`);
    const formAction = element.form_action_type ?? legacyFormAction(element.action_type);
    if (place.form) {
      if (formAction !== 'submit' && formAction !== 'reset') {
        fail(where, 'a button inside a form needs form_action_type "submit" or "reset"');
      }
      if (formAction === 'submit') this.submitButtons += 1;
      return;
    }
    if (formAction !== undefined) fail(where, 'form_action_type belongs only on buttons inside a form');
    if (!Array.isArray(element.behaviors) || element.behaviors.length === 0) {
      fail(where, 'a button outside a form needs behaviors');
    }
  }
}

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Local i18n (configure-multi-language-content): `i18n_content` sits beside the `content` of a text object
 * (plain_text, lark_md, markdown) or of `config.summary`, keyed by the 16 languages, each a string. Schema 2.0
 * has no global i18n: neither `i18n_elements` nor a title's 1.0 `i18n` map.
 */
function localI18n(node: unknown, path: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      localI18n(item, `${path}[${i}]`);
    });
    return;
  }
  if (!isObject(node)) return;
  if (node.i18n !== undefined && TEXT_TAGS.has(String(node.tag))) {
    fail(`${path}.i18n`, 'global i18n is not supported in schema 2.0: use i18n_content beside content');
  }
  if (node.i18n_content !== undefined) {
    const isSummary = path === '.config.summary';
    if (!TEXT_TAGS.has(String(node.tag)) && !isSummary)
      fail(`${path}.i18n_content`, 'only a text object (plain_text, lark_md, markdown) or config.summary takes it');
    languageMap(node.i18n_content, `${path}.i18n_content`);
  }
  for (const [key, value] of Object.entries(node)) if (key !== 'i18n_content') localI18n(value, `${path}.${key}`);
}

/** `{zh_cn: "…", en_us: "…"}`: known languages, string values, at least one. */
function languageMap(value: unknown, where: string): asserts value is Record<string, string> {
  if (!isObject(value) || Object.keys(value).length === 0) fail(where, 'must be an object of texts by language');
  for (const [lang, text] of Object.entries(value)) {
    if (!CARD_LANGUAGES.has(lang)) fail(`${where}.${lang}`, 'unknown language');
    if (typeof text !== 'string') fail(`${where}.${lang}`, 'must be a string');
  }
}

function textTags(list: unknown, where: string): void {
  if (!Array.isArray(list)) fail(where, 'must be an array');
  list.forEach((tag, i) => {
    if (!isObject(tag) || tag.tag !== 'text_tag') fail(`${where}[${i}]`, 'must be a text_tag');
    if (tag.text !== undefined) shortPlainText(tag.text, `${where}[${i}].text`);
  });
}

/** The first local i18n field in a card, for the APIs that take none (ephemeral send): its path, or null. */
export function localI18nField(node: unknown, path = ''): string | null {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) {
      const found = localI18nField(item, `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (!isObject(node)) return null;
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('i18n_')) return `${path}.${key}`;
    const found = localI18nField(value, `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/**
 * A card callback's answer as Feishu reads it (handle-card-callbacks): `{}`, a toast `{type, content, i18n}`
 * with `i18n` keyed by language, and/or a `raw` 2.0 card. Null when Feishu would accept it, else why not.
 */
export function validateCallbackAnswer(answer: unknown): string | null {
  try {
    if (!isObject(answer)) fail('', 'the answer must be a JSON object');
    if (answer.toast !== undefined) {
      const toast = answer.toast;
      if (!isObject(toast)) fail('toast', 'must be an object');
      if (!TOAST_TYPES.has(String(toast.type))) fail('toast.type', `unknown toast type "${String(toast.type)}"`);
      if (typeof toast.content !== 'string' && toast.i18n === undefined) fail('toast', 'needs content or i18n');
      if (toast.i18n !== undefined) languageMap(toast.i18n, 'toast.i18n');
    }
    if (answer.card !== undefined) {
      const card = answer.card;
      if (!isObject(card) || card.type !== 'raw') fail('card.type', 'this bot answers with raw cards only');
      const reason = validateCard(card.data);
      if (reason) fail('card.data', reason);
    }
    return null;
  } catch (error) {
    if (error instanceof CardRuleError) return error.message;
    throw error;
  }
}

function legacyFormAction(actionType: unknown): string | undefined {
  if (actionType === 'form_submit') return 'submit';
  if (actionType === 'form_reset') return 'reset';
  return undefined;
}

/** A short text (placeholder, button, tag): at most 100 characters, in `content` and in every `i18n_content`. */
function shortPlainText(text: unknown, where: string): void {
  if (!isObject(text) || typeof text.content !== 'string') fail(where, 'must be {tag, content}');
  if (text.content.length > MAX_TEXT) fail(where, `content is longer than ${MAX_TEXT} characters`);
  if (text.i18n_content === undefined) return;
  languageMap(text.i18n_content, `${where}.i18n_content`);
  for (const [lang, content] of Object.entries(text.i18n_content)) {
    if (content.length > MAX_TEXT) fail(`${where}.i18n_content.${lang}`, `longer than ${MAX_TEXT} characters`);
  }
}

function confirm(value: unknown, where: string): void {
  if (!isObject(value) || !isObject(value.title) || !isObject(value.text)) fail(where, 'needs both title and text');
}

function behaviors(value: unknown, tag: string, where: string): void {
  if (!Array.isArray(value)) fail(`${where}.behaviors`, 'must be an array');
  value.forEach((behavior, i) => {
    const path = `${where}.behaviors[${i}]`;
    if (!isObject(behavior)) fail(path, 'must be an object');
    if (behavior.type === 'callback') {
      if (!isObject(behavior.value)) fail(path, 'a callback value must be an object');
    } else if (behavior.type === 'open_url') {
      if (!OPEN_URL_HOSTS.has(tag)) fail(path, `open_url is not allowed on ${tag}`);
      if (typeof behavior.default_url !== 'string') fail(path, 'open_url needs default_url');
    } else {
      fail(path, 'type must be "callback" or "open_url"');
    }
  });
}

function input(element: Json, where: string): void {
  const max = element.max_length;
  if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 1000)) {
    fail(where, 'max_length must be an integer from 1 to 1000');
  }
  const inputType = element.input_type;
  if (inputType !== undefined && !['text', 'multiline_text', 'password'].includes(String(inputType))) {
    fail(where, `unknown input_type "${String(inputType)}"`);
  }
}

function picker(element: Json, initialKey: string, format: RegExp, formatName: string, where: string): void {
  const initial = element[initialKey];
  if (initial === undefined) {
    if (element.placeholder === undefined) fail(where, `a placeholder is required without ${initialKey}`);
    return;
  }
  if (typeof initial !== 'string' || !format.test(initial)) fail(where, `${initialKey} must look like ${formatName}`);
}

function overflow(element: Json, where: string): void {
  if (!Array.isArray(element.options) || element.options.length === 0) fail(where, 'options is required');
  element.options.forEach((option, i) => {
    if (!isObject(option)) fail(`${where}.options[${i}]`, 'must be an object');
    if (option.text !== undefined) shortPlainText(option.text, `${where}.options[${i}].text`);
  });
}

/** Feishu's 200-element limit counts text elements too, so every object with a tag counts. */
function countTagged(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countTagged(item), 0);
  if (!isObject(value)) return 0;
  const own = typeof value.tag === 'string' ? 1 : 0;
  return Object.values(value).reduce((sum: number, item) => sum + countTagged(item), own);
}
