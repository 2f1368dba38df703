import type { Lang } from './card/i18n';

/** Times as the page shows them, in the reader's zone and language. */

const locale = (lang: Lang) => (lang === 'zh_cn' ? 'zh-CN' : 'en-GB');

/** A message's time: `09:05`. */
export const clockTime = (ms: number, timeZone: string, lang: Lang) =>
  new Intl.DateTimeFormat(locale(lang), { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);

/** The clock control's reading: `Tue 24 Nov 2026, 09:05`. */
export const fullTime = (ms: number, timeZone: string, lang: Lang) =>
  new Intl.DateTimeFormat(locale(lang), {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(ms);
