import { DIGEST_LINE_LIMIT, type DigestLine, type DigestSection, type PersonWeek, overdueSince, peopleOf } from '../src/domain/digest';
import { type Language, type MessageKey, t } from '../src/i18n';
import {
  type Card,
  type CardComponent,
  type CardParts,
  doneLine,
  escapeMarkdown,
  fittingCard,
  formatInstant,
  groupVoice,
  markdown,
  mention,
  mentionIfHere,
  oneLine,
} from './parts';

const SECTION_TITLE: Record<DigestSection, MessageKey> = {
  overdue: 'digest.section.overdue',
  today: 'digest.section.today',
  undated: 'digest.section.undated',
};

/** How much of a to-do's text a digest line shows. */
const LINE_TEXT_CHARS = 80;

/** People the week's numbers name at most (most done first, as `weeklyNumbers` ranks them); the rest are counted. */
export const DIGEST_WEEK_PEOPLE_LIMIT = 20;

/**
 * A group's daily digest, in every language (the group reads it): last week's numbers per person when it opens a
 * week, then the open to-dos it lists (overdue, due today, without a time), each section grouped by the people the
 * to-dos are for, mentioned for real, never everyone. Each line has its own Done; after `DIGEST_LINE_LIMIT` lines the
 * rest is counted and `/todos` named. To-do text is `plain_text`, so nothing typed becomes markup.
 *
 * A line is up to nine components (its row, columns, texts and button) and each change of people one more, so
 * twenty lines for many people can pass Feishu's 200 components or its 30 KB: the digest then shows as many lines as
 * fit and counts the rest, rather than be refused and never posted on the day the group has most to do.
 */
export function digestCard(p: {
  lines: readonly DigestLine[];
  week?: readonly PersonWeek[] | undefined;
  now: number;
  timeZone: string;
  lang: Language;
  left?: ReadonlySet<string> | undefined;
}): Card {
  return fittingCard(Math.min(p.lines.length, DIGEST_LINE_LIMIT), (shown) => digestParts(p, shown));
}

function digestParts(p: Parameters<typeof digestCard>[0], lineCount: number): CardParts {
  const voice = groupVoice(p.lang);
  const shown = p.lines.slice(0, lineCount);
  const elements: CardComponent[] = [];
  if (p.week !== undefined && p.week.length > 0) {
    const week = p.week.slice(0, DIGEST_WEEK_PEOPLE_LIMIT);
    const others = p.week.length - week.length;
    const numbers = (lang: Language) =>
      [
        ...week.map((w) => t(lang, 'digest.personWeek', { person: mention(w.personId), done: w.done, open: w.open, overdue: w.overdue })),
        ...(others > 0 ? [escapeMarkdown(t(lang, 'digest.weekMore', { count: others }))] : []),
      ].join('\n');
    elements.push(
      markdown((lang) => `**${t(lang, 'digest.lastWeek')}**\n${numbers(lang)}`, voice),
      { tag: 'hr' },
    );
  }
  let section: DigestSection | undefined;
  let people: string | undefined;
  for (const line of shown) {
    if (line.section !== section) {
      section = line.section;
      people = undefined;
      elements.push(markdown((lang) => `**${t(lang, SECTION_TITLE[line.section])}**`, voice));
    }
    // Sorted, as the lines are grouped (`digestLines`): the same people are one heading, whatever their order.
    const those = [...peopleOf(line.todo, p.left)]
      .sort()
      .map((id) => mentionIfHere(id, p.left))
      .join(' ');
    if (those !== people) {
      people = those;
      elements.push(markdown(() => those, voice));
    }
    elements.push(lineRow(line, p.now, p.timeZone, voice));
  }
  const more = p.lines.length - shown.length;
  if (more > 0) elements.push(markdown((lang) => escapeMarkdown(t(lang, 'digest.more', { count: more })), voice, { text_size: 'notation' }));
  return {
    voice,
    title: 'digest.title',
    template: 'blue',
    summary: (lang) => t(lang, 'digest.summary', { count: p.lines.length }),
    elements,
  };
}

/** A to-do's line: its text and when it was due (or is), beside its Done button. */
function lineRow(line: DigestLine, now: number, zone: string, voice: ReturnType<typeof groupVoice>): CardComponent {
  const { todo } = line;
  const since = overdueSince(todo, now);
  const when = (lang: Language) =>
    line.section === 'overdue' && since !== undefined
      ? t(lang, 'digest.overdueSince', { time: formatInstant(since, zone, lang) })
      : line.section === 'today' && todo.remindAt !== undefined
        ? t(lang, 'digest.dueAt', { time: formatInstant(todo.remindAt, zone, lang) })
        : '';
  return doneLine({
    voice,
    text: oneLine(todo.text, LINE_TEXT_CHARS),
    detail: line.section !== 'undated' ? when : undefined,
    value: { action: 'todo.digestDone', todoId: todo.id },
  });
}
