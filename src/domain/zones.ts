/**
 * Time zone names as the bot accepts them. A zone comes from outside (a callback's `action.timezone`, a Feishu
 * profile, the configuration, a picker's offset) and is canonicalised once, so that `asia/shanghai`,
 * `ASIA/Shanghai` and `Asia/Shanghai` are one zone: one formatter, one cache entry, one stored spelling.
 */

/** Longest zone name looked at; IANA's longest is 32 characters ("America/Argentina/ComodRivadavia"). */
export const ZONE_NAME_LIMIT = 64;

/** Entries kept by a cache keyed by zone names: IANA has about 600, so real use never evicts. */
export const ZONE_CACHE_LIMIT = 1_000;

const FIXED_OFFSET = /^([+-])(\d{2}):?(\d{2})$/;

/** A fixed offset in minutes east of UTC, or undefined when `zone` is not one. */
export function parseFixedOffset(zone: string): number | undefined {
  const match = FIXED_OFFSET.exec(zone);
  if (!match) return undefined;
  const total = Number(match[2]) * 60 + Number(match[3]);
  if (Number(match[3]) >= 60 || total > 14 * 60) return undefined;
  return match[1] === '-' ? -total : total;
}

/** `+08:00`, `-05:30`: the one spelling of a fixed offset. */
export function formatOffset(minutes: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Remembers `compute(key)` for the latest `limit` keys. Keys here may come from outside (a zone a client sent), so
 * the memory a cache holds is bounded by `limit`, never by what callers send.
 */
export function boundedMemo<T>(limit: number, compute: (key: string) => T): (key: string) => T {
  const memo = new Map<string, T>();
  return (key) => {
    if (memo.has(key)) return memo.get(key) as T;
    const value = compute(key);
    if (memo.size >= limit) memo.delete(memo.keys().next().value as string);
    memo.set(key, value);
    return value;
  };
}

/** IANA's canonical names by their lower-case spelling, listed by Intl without building a formatter for each. */
let canonicalByLowerCase: Map<string, string> | undefined;

function resolveZone(raw: string): string | undefined {
  const offset = parseFixedOffset(raw);
  if (offset !== undefined) return formatOffset(offset);
  canonicalByLowerCase ??= new Map(Intl.supportedValuesOf('timeZone').map((zone) => [zone.toLowerCase(), zone]));
  const known = canonicalByLowerCase.get(raw.toLowerCase());
  if (known !== undefined) return known;
  // Aliases (`US/Eastern`, `Etc/UTC`) are not listed; Intl resolves them, once per spelling thanks to the memo.
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const canonical = boundedMemo(ZONE_CACHE_LIMIT, resolveZone);

/**
 * The canonical name of a zone (`Asia/Shanghai`, `America/New_York` for `US/Eastern`, `+08:00` for `+0800`), or
 * undefined for anything that is not a real zone or an offset of at most 14 hours.
 */
export function canonicalZone(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw === '' || raw.length > ZONE_NAME_LIMIT) return undefined;
  return canonical(raw);
}

/**
 * Abbreviations name different zones in different places, and Node reads each as one of them: `CST` as
 * America/Chicago, 14 hours from the China Standard Time a team in China means. The zones each may mean; any other
 * all-letter name of three or four letters is an abbreviation too, without the list.
 */
const ZONE_ABBREVIATIONS: Readonly<Record<string, string>> = {
  CST: 'Asia/Shanghai (China), America/Chicago (US Central) or America/Havana (Cuba)',
  IST: 'Asia/Kolkata (India), Europe/Dublin (Ireland) or Asia/Jerusalem (Israel)',
  BST: 'Europe/London (British Summer Time) or Asia/Dhaka (Bangladesh)',
  EST: 'America/New_York (US Eastern) or Australia/Sydney (Australian Eastern)',
  MST: 'America/Denver (US Mountain), America/Phoenix (Arizona) or Asia/Kuala_Lumpur (Malaysia)',
  PST: 'America/Los_Angeles (US Pacific) or Asia/Manila (Philippines)',
  AST: 'America/Halifax (Atlantic) or Asia/Riyadh (Arabia)',
  SST: 'Asia/Singapore or Pacific/Pago_Pago (Samoa)',
  CTT: 'Asia/Shanghai or Asia/Taipei',
  ECT: 'Europe/Paris or America/Guayaquil (Ecuador)',
};
/** Short names that are zones of their own, not abbreviations of several. */
const SHORT_ZONES = new Set(['UTC', 'GMT', 'UCT', 'PRC', 'ROC', 'ROK']);

/** Whether `name` is a zone abbreviation (`CST`, `ist`), and the zones it may mean where known. */
export function zoneAbbreviation(name: string): { likely?: string } | undefined {
  const upper = name.toUpperCase();
  if (!/^[A-Z]{3,4}$/.test(upper) || SHORT_ZONES.has(upper)) return undefined;
  const likely = ZONE_ABBREVIATIONS[upper];
  return likely === undefined ? {} : { likely };
}
