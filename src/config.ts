import { z } from 'zod';
import { DIGEST_DAYS, type EffectiveSettings, MAX_NUDGE_HOURS, TASK_SYNC, parseClockTime } from './domain/group-settings';
import type { Language } from './domain/languages';
import { canonicalZone, zoneAbbreviation } from './domain/zones';
import { CodedError, ErrorCode } from './errors';
import { isLarkDomain } from './feishu/app-links';
import { SIGNED_BODY_LIMIT_BYTES } from './feishu/verify';
import { DEFAULT_LEASE_MS, DEFAULT_POLL_MS } from './jobs/outbox';
import type { StoreConfig } from './store';
import { DEFAULT_POOL_SIZE, DEFAULT_SCHEMA, SCHEMA_NAME, SYNCHRONOUS_COMMIT, postgresUrlProblem } from './store/postgres/settings';

/**
 * The only reader of the environment. Every variable is validated once, at start-up; a bad one stops the bot
 * with a line that names it and says how to fix it, before anything listens.
 */

/** The values `.env.example` ships with (`cli_xxxxxxxxxxxxxxxx`): a copied example is not a configuration. */
const PLACEHOLDER = /^(cli_)?x{4,}$/i;

const nonEmpty = (fix: string) =>
  z
    .string({ error: `is missing: ${fix}` })
    .trim()
    .min(1, `is empty: ${fix}`)
    .refine((value) => !PLACEHOLDER.test(value), `is still the placeholder from .env.example: ${fix}`);

const positiveInt = (fallback: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be greater than 0').default(fallback);

/** A whole number of seconds within bounds, refused with one sentence that names them. */
const secondsFromTo = (min: number, max: number, fallback: number) => {
  const error = `must be a whole number of seconds from ${min} to ${max}`;
  return z.coerce.number({ error }).int(error).min(min, error).max(max, error).default(fallback);
};

const schema = z.object({
  FEISHU_APP_ID: nonEmpty('copy the App ID from the developer console, Credentials & Basic Info'),
  FEISHU_APP_SECRET: nonEmpty('copy the App Secret from the developer console, Credentials & Basic Info'),
  FEISHU_VERIFICATION_TOKEN: nonEmpty('copy it from Events & Callbacks > Encryption Strategy'),
  FEISHU_ENCRYPT_KEY: nonEmpty('set an Encrypt Key in Events & Callbacks > Encryption Strategy and copy it here'),
  FEISHU_EVENTS: z.enum(['webhook', 'long-connection'], { error: 'must be "webhook" or "long-connection"' }).default('webhook'),
  FEISHU_DOMAIN: z
    .url({ error: 'must be a base URL such as https://open.feishu.cn or https://open.larksuite.com' })
    .default('https://open.feishu.cn')
    .transform((url) => url.replace(/\/+$/, '')),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATA_FILE: z.string().min(1).default('./data/db.json'),
  LOG_LEVEL: z
    .preprocess(
      (value) => (typeof value === 'string' ? value.toLowerCase() : value),
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }),
    )
    .default('info'),
  TODO_ALLOWED: z.enum(['admins', 'everyone'], { error: 'must be "admins" or "everyone"' }).default('admins'),
  FORM_TTL_MINUTES: positiveInt(24 * 60),
  // Event ids are kept 24 h and events may be 8 h old: a window past an hour would let a captured callback in again.
  REPLAY_WINDOW_SECONDS: secondsFromTo(1, 3600, 300),
  BODY_LIMIT_BYTES: positiveInt(SIGNED_BODY_LIMIT_BYTES),
  BODY_BUDGET_BYTES: positiveInt(32 * SIGNED_BODY_LIMIT_BYTES),
  MAX_CONNECTIONS: positiveInt(512),
  // Node looks for requests past it once a second (src/receivers/webhook.ts): a finer one could not be kept. Above
  // 300 s it would be longer than Node's own default, the minutes a trickling client held a socket.
  REQUEST_TIMEOUT_SECONDS: secondsFromTo(1, 300, 10),
  ADMIN_CACHE_SECONDS: positiveInt(60),
  FEISHU_TIMEOUT_MS: positiveInt(10_000),
  // A step is recorded only with a second of its lease left, and a renewal comes every quarter: 2 s at the least.
  JOB_LEASE_SECONDS: secondsFromTo(2, 3600, DEFAULT_LEASE_MS / 1000),
  JOB_POLL_SECONDS: secondsFromTo(1, 3600, DEFAULT_POLL_MS / 1000),
  STORE_FSYNC_MS: z.coerce.number({ error: 'must be a whole number of milliseconds' }).int().min(0).default(1000),
  USER_COMMAND_LIMIT: positiveInt(10),
  USER_COMMAND_WINDOW_SECONDS: positiveInt(10),
  DEFAULT_TIME_ZONE: z
    .string()
    .default('Asia/Shanghai')
    .transform((raw, ctx) => {
      const zone = canonicalZone(raw.trim());
      const problem =
        zoneAbbreviationProblem(raw.trim()) ?? (zone === undefined ? 'must be an IANA time zone such as Asia/Shanghai or Europe/Berlin' : undefined);
      if (problem === undefined && zone !== undefined) return zone;
      ctx.addIssue({ code: 'custom', message: problem ?? '' });
      return z.NEVER;
    }),
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((url) => url || undefined)
    .superRefine((url, ctx) => {
      const problem = url === undefined ? undefined : postgresUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  DATABASE_SCHEMA: z
    .string()
    .trim()
    .regex(SCHEMA_NAME, 'must be a lower-case name of letters, digits and _ (at most 48), such as todo_bot')
    .default(DEFAULT_SCHEMA),
  DATABASE_POOL_SIZE: positiveInt(DEFAULT_POOL_SIZE),
  DATABASE_SYNCHRONOUS_COMMIT: z.enum(SYNCHRONOUS_COMMIT, { error: `must be one of ${SYNCHRONOUS_COMMIT.join(', ')}` }).optional(),
  BOT_LANGUAGE: z.enum(['zh_cn', 'en_us'], { error: 'must be "zh_cn" or "en_us"' }).optional(),
  DIGEST_TIME: z
    .string()
    .optional()
    .transform((time, ctx) => {
      if (time === undefined) return 'off';
      const clock = parseClockTime(time);
      if (clock !== undefined) return clock;
      ctx.addIssue({ code: 'custom', message: 'must be a time such as 09:00, or empty for no digest' });
      return z.NEVER;
    }),
  DIGEST_DAYS: z.enum(DIGEST_DAYS, { error: 'must be "workdays" or "daily"' }).default('workdays'),
  TASK_SYNC: z.enum(TASK_SYNC, { error: 'must be "on" or "off"' }).default('off'),
  OVERDUE_NUDGE_HOURS: z.coerce
    .number({ error: `must be a whole number of hours from 1 to ${MAX_NUDGE_HOURS}, or empty for no nudges` })
    .int(`must be a whole number of hours from 1 to ${MAX_NUDGE_HOURS}, or empty for no nudges`)
    .min(1, `must be a whole number of hours from 1 to ${MAX_NUDGE_HOURS}, or empty for no nudges`)
    .max(MAX_NUDGE_HOURS, `must be a whole number of hours from 1 to ${MAX_NUDGE_HOURS}, or empty for no nudges`)
    .optional(),
});

/** What the store needs: `npm run store` reads only these, so it runs without the Feishu credentials. */
const storeSchema = schema.pick({
  DATA_FILE: true,
  STORE_FSYNC_MS: true,
  DATABASE_URL: true,
  DATABASE_SCHEMA: true,
  DATABASE_POOL_SIZE: true,
  DATABASE_SYNCHRONOUS_COMMIT: true,
});

/** Over the long connection the SDK authenticates once, at connect: pushes carry no signature or token to check. */
const longConnectionSchema = schema.extend({
  FEISHU_VERIFICATION_TOKEN: z.string().optional(),
  FEISHU_ENCRYPT_KEY: z.string().optional(),
});

/** How pushes reach the bot: the webhook needs the two secrets it checks them with, the long connection neither. */
export type EventsConfig =
  | { readonly events: 'webhook'; readonly verificationToken: string; readonly encryptKey: string }
  | { readonly events: 'long-connection' };

export type Config = CommonConfig & EventsConfig;

interface CommonConfig extends StoreConfig {
  readonly appId: string;
  readonly appSecret: string;
  readonly feishuDomain: string;
  readonly port: number;
  readonly host: string;
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  readonly todoAllowed: 'admins' | 'everyone';
  readonly formTtlMs: number;
  readonly replayWindowMs: number;
  readonly bodyLimitBytes: number;
  /** Body bytes all pushes together may be reading at once; past it a push is answered 503 and Feishu retries it. */
  readonly bodyBudgetBytes: number;
  /** Connections the HTTP server holds at once; more are closed as they arrive. */
  readonly maxConnections: number;
  /** A request whose headers, or whose whole body, have not arrived within this long is cut (408). */
  readonly requestTimeoutMs: number;
  readonly adminCacheMs: number;
  readonly feishuTimeoutMs: number;
  /** How long a running job's lease lasts unless renewed: how soon another instance resumes a dead one's jobs. */
  readonly jobLeaseMs: number;
  /**
   * The longest the outbox goes without looking for jobs no commit announced (a dead instance's, once its lease ran
   * out): with the lease, how soon another instance resumes them.
   */
  readonly jobPollMs: number;
  /** Commands one person may send in one chat per window before being throttled. */
  readonly userCommandLimit: number;
  readonly userCommandWindowSeconds: number;
  /** Canonical IANA zone for people whose zone neither their client nor their Feishu profile tells. */
  readonly defaultTimeZone: string;
  /** The bot's language where neither the person's words nor the chat's setting (`/lang`) tell. */
  readonly botLanguage: Language;
  /**
   * Every group's settings where its admins chose nothing (`/settings`): read them through `resolveSettings`, never
   * directly. The language is `botLanguage`, the zone `defaultTimeZone`, who creates `todoAllowed`.
   */
  readonly groupDefaults: Readonly<EffectiveSettings>;
}

export class ConfigError extends CodedError {
  readonly code = ErrorCode.ConfigInvalid;

  constructor(readonly problems: string[]) {
    // One line per problem, each starting with the variable's name: what a person reads at start-up.
    super(problems.join('\n'));
  }
}

/** A zone abbreviation (`CST`) as DEFAULT_TIME_ZONE: refused with the zones it may mean, since Node reads it as one. */
function zoneAbbreviationProblem(zone: string): string | undefined {
  const abbreviation = zoneAbbreviation(zone);
  if (!abbreviation) return undefined;
  return `is the abbreviation ${zone}, which names different zones in different places: write the IANA name, such as ${abbreviation.likely ?? 'Asia/Shanghai'}`;
}

/** Every variable the bot reads. */
export const KNOWN_VARIABLES: readonly string[] = Object.keys(schema.shape);

/**
 * Set variables whose names look like a misspelling of one of ours (`DEFAULT_TIMEZONE`), each with the closest
 * known name: an optional variable spelt wrong is otherwise silently unset. "Looks like": the same name but for
 * case and underscores, or at most one edit away (two, for names of eight letters or more), so that the rest of
 * the environment (`HOME` is two edits from `HOST`) is left alone.
 */
export function misspeltVariables(env: Record<string, string | undefined>): Array<{ name: string; meant: string }> {
  const known = new Set(KNOWN_VARIABLES);
  const squash = (name: string) => name.replace(/_/g, '').toUpperCase();
  const found: Array<{ name: string; meant: string }> = [];
  for (const name of Object.keys(env)) {
    if (known.has(name) || env[name] === undefined) continue;
    let best: { meant: string; distance: number } | undefined;
    for (const candidate of KNOWN_VARIABLES) {
      const distance = squash(name) === squash(candidate) ? 0 : editDistance(name.toUpperCase(), candidate);
      if (!best || distance < best.distance) best = { meant: candidate, distance };
    }
    if (best && best.distance <= (name.length >= 8 ? 2 : 1)) found.push({ name, meant: best.meant });
  }
  return found;
}

/** Levenshtein's distance: the fewest insertions, deletions and substitutions that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const set = withoutBlanks(env);
  if (set.FEISHU_EVENTS === 'long-connection') {
    return Object.freeze({ ...common(valid(longConnectionSchema.safeParse(set))), events: 'long-connection' });
  }
  const e = valid(schema.safeParse(set));
  return Object.freeze({ ...common(e), events: 'webhook', verificationToken: e.FEISHU_VERIFICATION_TOKEN, encryptKey: e.FEISHU_ENCRYPT_KEY });
}

export function loadStoreConfig(env: Record<string, string | undefined>): StoreConfig {
  return Object.freeze(storeConfig(valid(storeSchema.safeParse(withoutBlanks(env)))));
}

function storeConfig(e: z.infer<typeof storeSchema>): StoreConfig {
  return {
    dataFile: e.DATA_FILE,
    storeFsyncMs: e.STORE_FSYNC_MS,
    ...(e.DATABASE_URL !== undefined && { databaseUrl: e.DATABASE_URL }),
    databaseSchema: e.DATABASE_SCHEMA,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    ...(e.DATABASE_SYNCHRONOUS_COMMIT !== undefined && { databaseSynchronousCommit: e.DATABASE_SYNCHRONOUS_COMMIT }),
  };
}

function valid<T>(parsed: z.ZodSafeParseResult<T>): T {
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  return parsed.data;
}

function common(e: z.infer<typeof longConnectionSchema>): CommonConfig {
  if (e.BODY_BUDGET_BYTES < e.BODY_LIMIT_BYTES) {
    throw new ConfigError([`BODY_BUDGET_BYTES must be at least BODY_LIMIT_BYTES (${e.BODY_LIMIT_BYTES}), or a push of the largest size is never read`]);
  }
  return {
    ...storeConfig(e),
    appId: e.FEISHU_APP_ID,
    appSecret: e.FEISHU_APP_SECRET,
    feishuDomain: e.FEISHU_DOMAIN,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    todoAllowed: e.TODO_ALLOWED,
    formTtlMs: e.FORM_TTL_MINUTES * 60_000,
    replayWindowMs: e.REPLAY_WINDOW_SECONDS * 1000,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    bodyBudgetBytes: e.BODY_BUDGET_BYTES,
    maxConnections: e.MAX_CONNECTIONS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
    adminCacheMs: e.ADMIN_CACHE_SECONDS * 1000,
    feishuTimeoutMs: e.FEISHU_TIMEOUT_MS,
    jobLeaseMs: e.JOB_LEASE_SECONDS * 1000,
    jobPollMs: e.JOB_POLL_SECONDS * 1000,
    userCommandLimit: e.USER_COMMAND_LIMIT,
    userCommandWindowSeconds: e.USER_COMMAND_WINDOW_SECONDS,
    defaultTimeZone: e.DEFAULT_TIME_ZONE,
    botLanguage: e.BOT_LANGUAGE ?? domainLanguage(e.FEISHU_DOMAIN),
    groupDefaults: Object.freeze({
      language: e.BOT_LANGUAGE ?? domainLanguage(e.FEISHU_DOMAIN),
      timeZone: e.DEFAULT_TIME_ZONE,
      whoCreates: e.TODO_ALLOWED,
      digestTime: e.DIGEST_TIME,
      digestDays: e.DIGEST_DAYS,
      nudgeAfterHours: e.OVERDUE_NUDGE_HOURS ?? 'off',
      taskSync: e.TASK_SYNC,
      tomorrowTime: '09:00',
    }),
  };
}

/**
 * A blank value (`PORT=` in `.env`) means the variable is unset, so its default applies: read as given, `PORT=`
 * would be port 0 (a random port) and `STORE_FSYNC_MS=` 0 (an fsync per write).
 */
function withoutBlanks(env: Record<string, string | undefined>): Record<string, string> {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && value.trim() !== '') set[name] = value;
  return set;
}

/** Lark (open.larksuite.com) serves the world outside China: English; Feishu, and any other domain, Chinese. */
function domainLanguage(feishuDomain: string): Language {
  return isLarkDomain(feishuDomain) ? 'en_us' : 'zh_cn';
}
