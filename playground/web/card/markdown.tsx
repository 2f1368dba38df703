import MarkdownIt, { type StateInline, type Token } from 'markdown-it';
import { type ComponentChild, h } from 'preact';
import { type Lang, isObject } from './i18n';

/**
 * Feishu's card markdown as vnodes: CommonMark (through markdown-it's token stream, never its HTML) plus Feishu's
 * own tags (`<at>`, `<person>`, `<font>`, `<local_datetime>`, …), read by one inline rule added to markdown-it. No
 * HTML is ever parsed or injected: every piece of text ends up as a text node.
 */

export interface MarkdownContext {
  lang: Lang;
  /** open_id → display name. */
  names: ReadonlyMap<string, string>;
  /** The reader's zone, for `<local_datetime>`. */
  timeZone: string;
}

// `breaks`: a newline in a card's markdown is a line break, as Feishu draws it. No HTML blocks in 2.0 markdown.
const md = new MarkdownIt('default', { html: false, breaks: true, linkify: false, typographer: false });
md.inline.ruler.after('autolink', 'feishu_tag', feishuTag);

/** Feishu's tags: lower-case names with underscores (`local_datetime`), attributes quoted or not. */
const TAG = /^<(\/?)([A-Za-z][A-Za-z0-9_]*)((?:\s+[A-Za-z_][\w.:-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/;
const ATTR = /([A-Za-z_][\w.:-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

interface FeishuTag {
  name: string;
  closing: boolean;
  selfClosing: boolean;
  attrs: Record<string, string>;
}

function feishuTag(state: StateInline, silent: boolean): boolean {
  if (state.src.charCodeAt(state.pos) !== 0x3c /* < */) return false;
  const match = TAG.exec(state.src.slice(state.pos));
  if (!match) return false;
  if (!silent) {
    const attrs: Record<string, string> = {};
    for (const [, name, double, single, bare] of (match[3] ?? '').matchAll(ATTR)) {
      if (name) attrs[name.toLowerCase()] = double ?? single ?? bare ?? '';
    }
    const token = state.push('feishu_tag', '', 0);
    token.meta = { name: (match[2] ?? '').toLowerCase(), closing: match[1] === '/', selfClosing: match[4] === '/', attrs } satisfies FeishuTag;
  }
  state.pos += match[0].length;
  return true;
}

/**
 * Tags that wrap the text up to their closing tag. Every other tag (`<at>`, `<person>`, `<br>`, …) is drawn where it
 * stands, and whatever sits between it and its closing tag is drawn as ordinary text.
 */
const WRAPPING = new Set(['font', 'a', 'link', 'text_tag']);

interface Frame {
  /** A markdown-it type (`strong`, `paragraph`, …) or a Feishu tag's name. */
  type: string;
  make: (children: ComponentChild[]) => ComponentChild;
  children: ComponentChild[];
}

export function renderMarkdown(content: string, ctx: MarkdownContext): ComponentChild[] {
  // Feishu documents `&sim;` as its escape for `~`; the HTML entity would decode to `∼`.
  const tokens = md.parse(content.replaceAll('&sim;', '&#126;'), {});
  return convert(tokens, ctx);
}

function convert(tokens: Token[], ctx: MarkdownContext): ComponentChild[] {
  const root: Frame = { type: 'root', make: () => null, children: [] };
  const stack: Frame[] = [root];
  const top = () => stack[stack.length - 1] ?? root;
  const closeUpTo = (type: string) => {
    const index = stack.findLastIndex((frame) => frame.type === type);
    if (index <= 0) return;
    while (stack.length > index) {
      const frame = stack.pop() as Frame;
      top().children.push(frame.make(frame.children));
    }
  };

  for (const token of tokens) {
    if (token.type === 'inline') {
      top().children.push(...convert(token.children ?? [], ctx));
    } else if (token.type === 'feishu_tag') {
      const tag = token.meta as unknown as FeishuTag;
      if (tag.closing) {
        if (WRAPPING.has(tag.name)) closeUpTo(tag.name);
      } else if (!WRAPPING.has(tag.name)) {
        top().children.push(feishuLeaf(tag, ctx));
      } else if (!tag.selfClosing) {
        stack.push({ type: tag.name, make: (children) => wrap(tag, children), children: [] });
      }
    } else if (token.nesting === 1) {
      const type = token.type.replace(/_open$/, '');
      stack.push({ type, make: (children) => element(token, children), children: [] });
    } else if (token.nesting === -1) {
      closeUpTo(token.type.replace(/_close$/, ''));
    } else {
      top().children.push(leaf(token));
    }
  }
  closeUpTo(stack[1]?.type ?? 'root');
  return root.children;
}

/** markdown-it's own block and inline elements; `token.tag` is always one of the few HTML names it emits. */
function element(token: Token, children: ComponentChild[]): ComponentChild {
  if (token.tag === 'a') return link(String(token.attrGet('href') ?? ''), children);
  if (token.tag === 'ol') return h('ol', { start: token.attrGet('start') ?? undefined }, children);
  if (/^h[1-6]$/.test(token.tag)) return h('p', { class: `md-heading md-${token.tag}` }, children);
  return h(token.tag, {}, children);
}

function leaf(token: Token): ComponentChild {
  switch (token.type) {
    case 'text':
      return token.content;
    case 'softbreak':
    case 'hardbreak':
      return h('br', {});
    case 'code_inline':
      return h('code', {}, token.content);
    case 'code_block':
    case 'fence':
      return h('pre', {}, h('code', {}, token.content));
    case 'hr':
      return h('hr', {});
    case 'image':
      return placeholder('image', 'images are not drawn here');
    default:
      return placeholder(token.type, 'not drawn here');
  }
}

/** Only http(s) links are links, as in Feishu; anything else (`javascript:`, `data:`) stays text. */
function link(href: string, children: ComponentChild[]): ComponentChild {
  if (!/^https?:\/\//i.test(href)) return h('span', { class: 'md-link-refused' }, children);
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, children);
}

function wrap(tag: FeishuTag, children: ComponentChild[]): ComponentChild {
  switch (tag.name) {
    case 'font':
      return h('span', { class: `font-color color-${colorName(tag.attrs.color)}` }, children);
    case 'text_tag':
      return h('span', { class: `text-tag color-${colorName(tag.attrs.color)}` }, children);
    case 'link':
      return link(tag.attrs.url ?? '', children);
    default:
      return link(tag.attrs.href ?? '', children);
  }
}

function feishuLeaf(tag: FeishuTag, ctx: MarkdownContext): ComponentChild {
  switch (tag.name) {
    case 'at':
      return mentions(tag.attrs, ctx);
    case 'person':
      return h('span', { class: 'person' }, nameOf(tag.attrs.id ?? '', ctx));
    case 'local_datetime':
      return localDateTime(tag.attrs, ctx);
    case 'br':
      return h('br', {});
    case 'hr':
      return h('hr', {});
    default:
      return placeholder(`<${tag.name}>`, 'unknown markdown tag');
  }
}

const ALL = { zh_cn: '所有人', en_us: 'All' } as const;

function mentions(attrs: Record<string, string>, ctx: MarkdownContext): ComponentChild {
  const ids = (attrs.ids ?? attrs.id ?? attrs.email ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  return ids.map((id) => h('span', { class: 'mention' }, `@${id === 'all' ? ALL[ctx.lang] : nameOf(id, ctx)}`));
}

const nameOf = (id: string, ctx: MarkdownContext) => ctx.names.get(id) ?? id;

const FORMATS: Record<string, Intl.DateTimeFormatOptions> = {
  date_num: { year: 'numeric', month: '2-digit', day: '2-digit' },
  date_short: { month: 'short', day: 'numeric' },
  date: { year: 'numeric', month: 'short', day: 'numeric' },
  week: { weekday: 'long' },
  week_short: { weekday: 'short' },
  time: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  time_sec: { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' },
  timezone: { timeZoneName: 'short' },
};

/** `<local_datetime>`: an instant shown in the reader's own zone. */
function localDateTime(attrs: Record<string, string>, ctx: MarkdownContext): ComponentChild {
  const ms = Number(attrs.millisecond);
  if (!Number.isFinite(ms)) return placeholder('<local_datetime>', 'no millisecond');
  const options = FORMATS[attrs.format_type ?? ''] ?? { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' };
  return h(
    'time',
    { class: 'local-datetime' },
    new Intl.DateTimeFormat(ctx.lang === 'zh_cn' ? 'zh-CN' : 'en-GB', { ...options, timeZone: ctx.timeZone }).format(ms),
  );
}

/** Feishu's named colours; anything else is drawn in the default colour. */
const COLORS = new Set([
  'neutral',
  'blue',
  'turquoise',
  'lime',
  'orange',
  'violet',
  'indigo',
  'wathet',
  'green',
  'yellow',
  'red',
  'purple',
  'carmine',
  'grey',
  'default',
]);
export const colorName = (color: unknown): string => (typeof color === 'string' && COLORS.has(color) ? color : 'default');

/** Something the playground does not draw, shown (never dropped) with its name. */
export function placeholder(name: string, why: string): ComponentChild {
  return h('span', { class: 'placeholder', title: why }, `[${name}]`);
}

/** The text a reader would see, on one line: for accessible names and reply quotes. */
export function textOf(node: unknown): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (!isObject(node) || !isObject(node.props)) return '';
  return node.type === 'br' ? ' ' : textOf(node.props.children);
}
