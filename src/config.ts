import { z } from 'zod';

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
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .positive('must be greater than 0')
    .default(fallback);

const schema = z.object({
  FEISHU_APP_ID: nonEmpty('copy the App ID from the developer console, Credentials & Basic Info'),
  FEISHU_APP_SECRET: nonEmpty('copy the App Secret from the developer console, Credentials & Basic Info'),
  FEISHU_VERIFICATION_TOKEN: nonEmpty('copy it from Events & Callbacks > Encryption Strategy'),
  FEISHU_ENCRYPT_KEY: nonEmpty('set an Encrypt Key in Events & Callbacks > Encryption Strategy and copy it here'),
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
  REPLAY_WINDOW_SECONDS: positiveInt(300),
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  ADMIN_CACHE_SECONDS: positiveInt(60),
  FEISHU_TIMEOUT_MS: positiveInt(10_000),
  STORE_FSYNC_MS: z.coerce.number({ error: 'must be a whole number of milliseconds' }).int().min(0).default(1000),
  USER_COMMAND_LIMIT: positiveInt(10),
  USER_COMMAND_WINDOW_SECONDS: positiveInt(10),
});

export interface Config {
  readonly appId: string;
  readonly appSecret: string;
  readonly verificationToken: string;
  readonly encryptKey: string;
  readonly feishuDomain: string;
  readonly port: number;
  readonly host: string;
  readonly dataFile: string;
  /** How often the store's change log is fsynced; 0: before every acknowledgement. */
  readonly storeFsyncMs: number;
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  readonly todoAllowed: 'admins' | 'everyone';
  readonly formTtlMs: number;
  readonly replayWindowMs: number;
  readonly bodyLimitBytes: number;
  readonly adminCacheMs: number;
  readonly feishuTimeoutMs: number;
  /** Commands one person may send in one chat per window before being throttled. */
  readonly userCommandLimit: number;
  readonly userCommandWindowSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    // One line per problem, each starting with the variable's name: what a person reads at start-up.
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(withoutBlanks(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  const e = parsed.data;
  return Object.freeze({
    appId: e.FEISHU_APP_ID,
    appSecret: e.FEISHU_APP_SECRET,
    verificationToken: e.FEISHU_VERIFICATION_TOKEN,
    encryptKey: e.FEISHU_ENCRYPT_KEY,
    feishuDomain: e.FEISHU_DOMAIN,
    port: e.PORT,
    host: e.HOST,
    dataFile: e.DATA_FILE,
    storeFsyncMs: e.STORE_FSYNC_MS,
    logLevel: e.LOG_LEVEL,
    todoAllowed: e.TODO_ALLOWED,
    formTtlMs: e.FORM_TTL_MINUTES * 60_000,
    replayWindowMs: e.REPLAY_WINDOW_SECONDS * 1000,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    adminCacheMs: e.ADMIN_CACHE_SECONDS * 1000,
    feishuTimeoutMs: e.FEISHU_TIMEOUT_MS,
    userCommandLimit: e.USER_COMMAND_LIMIT,
    userCommandWindowSeconds: e.USER_COMMAND_WINDOW_SECONDS,
  });
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
