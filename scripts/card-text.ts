/**
 * Cards as a person reads them, for the terminal (the demo): the header with its status, texts with Feishu's markup
 * resolved (entities decoded, `<at>` shown as @name, `<person>` as the name, **bold** as bold), form fields as
 * boxes and buttons as [Done]. Pure: card JSON in, lines out; colour only through the style it is given.
 */

export interface TextStyle {
  bold(text: string): string;
  dim(text: string): string;
  /** The header's colour, from the card's template (blue, green, orange, red, grey). */
  header(template: string, text: string): string;
}

export const PLAIN: TextStyle = { bold: (t) => t, dim: (t) => t, header: (_template, t) => t };

const ANSI_COLOUR: Record<string, number> = { blue: 34, green: 32, orange: 33, red: 31, grey: 90 };

export const ANSI: TextStyle = {
  bold: (t) => `\x1b[1m${t}\x1b[22m`,
  dim: (t) => `\x1b[2m${t}\x1b[22m`,
  header: (template, t) => `\x1b[1;${ANSI_COLOUR[template] ?? 39}m${t}\x1b[0m`,
};

/** Colour only for a person at a terminal who has not asked for none (https://no-color.org). */
export function styleFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): TextStyle {
  return stream.isTTY === true && !env.NO_COLOR ? ANSI : PLAIN;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', sim: '~' };

/** `&#58;` → `:`, `&sim;` → `~`: what Feishu shows for the entities the bot escapes user text with. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (entity, body: string) => {
    if (body.startsWith('#x') || body.startsWith('#X')) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(Number(body.slice(1)));
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}

/**
 * Markdown as displayed. The bot's own markup is resolved first; user text arrives entity-escaped, so whatever
 * markup a person typed only appears, literally, once the entities are decoded last.
 */
export function markdownToText(content: string, name: (openId: string) => string, style: TextStyle): string {
  const resolved = content
    // The reader's own time is drawn by Feishu's client; a terminal shows the creator's-zone text written after it.
    .replace(/(?:<local_datetime [^>]*><\/local_datetime>\s*)+\/ /g, '')
    .replace(/<at id=([^>\s]+)><\/at>/g, (_match, id: string) => style.bold(`@${id === 'all' ? 'all' : name(id)}`))
    .replace(/<person id='([^']+)'[^>]*><\/person>/g, (_match, id: string) => name(id))
    .replace(/\*\*([^*]+)\*\*/g, (_match, text: string) => style.bold(text))
    .replace(/\*([^*]+)\*/g, (_match, text: string) => text);
  return decodeEntities(resolved);
}

interface Node {
  tag?: string;
  [key: string]: unknown;
}

const textOf = (node: unknown) => ((node as { content?: unknown } | undefined)?.content as string | undefined) ?? '';

function elementLines(element: Node, name: (openId: string) => string, style: TextStyle): string[] {
  switch (element.tag) {
    case 'markdown': {
      const lines = markdownToText(String(element.content ?? ''), name, style).split('\n');
      return element.text_size === 'notation' ? lines.map((line) => style.dim(line)) : lines;
    }
    case 'div':
      return textOf(element.text).split('\n');
    case 'hr':
      return [style.dim('─'.repeat(24))];
    case 'button':
      return [`[${textOf(element.text)}]`];
    case 'form':
      return ((element.elements as Node[] | undefined) ?? []).flatMap((child) => elementLines(child, name, style));
    case 'column_set': {
      // A row, as Feishu lays it out: its columns side by side on one line (a row of buttons reads `[Done] [Snooze]`).
      const columns = (element.columns as Array<{ elements?: Node[] }> | undefined) ?? [];
      return [columns.map((column) => (column.elements ?? []).flatMap((child) => elementLines(child, name, style)).join(' ')).join(' ')];
    }
    case 'input': {
      const value = typeof element.default_value === 'string' && element.default_value !== '' ? element.default_value : style.dim(textOf(element.placeholder));
      return [`${textOf(element.label) || 'Text'}: [ ${value} ]`];
    }
    case 'picker_datetime':
      return [`[ ${style.dim(textOf(element.placeholder))} 📅 ]`];
    case 'select_static': {
      const options = (element.options as Array<{ text: unknown; value: string }> | undefined) ?? [];
      const chosen = options.find((option) => option.value === element.initial_option);
      return [`[ ${chosen ? textOf(chosen.text) : style.dim(textOf(element.placeholder))} ▾ ]`];
    }
    case 'multi_select_person':
      return [`[ ${style.dim(textOf(element.placeholder))} 👤 ]`];
    default:
      return [style.dim(`(${element.tag ?? 'unknown'} element)`)];
  }
}

type TagList = Array<{ text?: unknown }>;

/**
 * The card as boxed lines; consecutive buttons share a line, as Feishu lays them out. Texts are read as the card
 * states them (`content`, the card's own language); header tags, which a card gives either plain or per language
 * (`i18n_text_tag_list`), in `lang`.
 */
export function cardToText(card: unknown, opts: { name: (openId: string) => string; style?: TextStyle; lang?: 'zh_cn' | 'en_us' }): string[] {
  const style = opts.style ?? PLAIN;
  const c = card as {
    header?: { title?: unknown; template?: string; text_tag_list?: TagList; i18n_text_tag_list?: Record<string, TagList> };
    body?: { elements?: Node[] };
  };
  const tags = c.header?.text_tag_list ?? c.header?.i18n_text_tag_list?.[opts.lang ?? 'en_us'];
  const status = tags?.map((tag) => textOf(tag.text)).join(', ');
  const title = `${textOf(c.header?.title) || 'Card'}${status ? ` · ${status}` : ''}`;
  const body: string[] = [];
  for (const element of c.body?.elements ?? []) {
    const lines = elementLines(element, opts.name, style);
    const previous = body.at(-1);
    if (element.tag === 'button' && previous?.endsWith(']') && previous.startsWith('[')) body[body.length - 1] = `${previous} ${lines[0]}`;
    else body.push(...lines);
  }
  return [`╭─ ${style.header(c.header?.template ?? '', title)}`, ...body.map((line) => `│ ${line}`), '╰─'];
}
