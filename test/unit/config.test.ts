import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, KNOWN_VARIABLES, loadConfig, loadStoreConfig, misspeltVariables } from '../../src/config';

const required = {
  FEISHU_APP_ID: 'cli_x',
  FEISHU_APP_SECRET: 's',
  FEISHU_VERIFICATION_TOKEN: 'v',
  FEISHU_ENCRYPT_KEY: 'e',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('fills the documented defaults', () => {
    expect(loadConfig(required)).toMatchObject({
      feishuDomain: 'https://open.feishu.cn',
      port: 3000,
      dataFile: './data/db.json',
      todoAllowed: 'admins',
      formTtlMs: 24 * 60 * 60_000,
      replayWindowMs: 300_000,
      bodyLimitBytes: 512 * 1024,
      bodyBudgetBytes: 16 * 1024 * 1024,
      maxConnections: 512,
      requestTimeoutMs: 10_000,
      jobLeaseMs: 20_000,
      jobPollMs: 5_000,
      defaultTimeZone: 'Asia/Shanghai',
    });
  });

  it('speaks Chinese on Feishu and English on Lark unless BOT_LANGUAGE says', () => {
    expect(loadConfig(required).botLanguage).toBe('zh_cn');
    expect(loadConfig({ ...required, FEISHU_DOMAIN: 'https://open.larksuite.com' }).botLanguage).toBe('en_us');
    expect(loadConfig({ ...required, FEISHU_DOMAIN: 'https://open.larksuite.com/' }).botLanguage).toBe('en_us');
    expect(loadConfig({ ...required, FEISHU_DOMAIN: 'http://127.0.0.1:8080' }).botLanguage).toBe('zh_cn');
    expect(loadConfig({ ...required, FEISHU_DOMAIN: 'https://notlarksuite.com' }).botLanguage).toBe('zh_cn');
    expect(loadConfig({ ...required, FEISHU_DOMAIN: 'https://open.larksuite.com', BOT_LANGUAGE: 'zh_cn' }).botLanguage).toBe('zh_cn');
    expect(loadConfig({ ...required, BOT_LANGUAGE: 'en_us' }).botLanguage).toBe('en_us');
    expect(problems({ ...required, BOT_LANGUAGE: 'fr' })).toEqual(['BOT_LANGUAGE must be "zh_cn" or "en_us"']);
  });

  it('reads DEFAULT_TIME_ZONE in its canonical spelling and refuses what is not a zone', () => {
    expect(loadConfig({ ...required, DEFAULT_TIME_ZONE: 'europe/berlin' }).defaultTimeZone).toBe('Europe/Berlin');
    expect(problems({ ...required, DEFAULT_TIME_ZONE: 'Mars/Olympus' })).toEqual([
      'DEFAULT_TIME_ZONE must be an IANA time zone such as Asia/Shanghai or Europe/Berlin',
    ]);
  });

  it('refuses a zone abbreviation, which Node reads as one of the zones it names (CST as Chicago), naming the likely ones (issue 23, item 8)', () => {
    expect(problems({ ...required, DEFAULT_TIME_ZONE: 'CST' })).toEqual([
      'DEFAULT_TIME_ZONE is the abbreviation CST, which names different zones in different places: write the IANA name, such as Asia/Shanghai (China), America/Chicago (US Central) or America/Havana (Cuba)',
    ]);
    for (const abbreviation of ['IST', 'bst', 'EST', 'PST', 'JST', 'CEST']) {
      expect(problems({ ...required, DEFAULT_TIME_ZONE: abbreviation })[0], abbreviation).toMatch(
        /^DEFAULT_TIME_ZONE is the abbreviation \w+, which names different zones/,
      );
    }
    for (const [zone, canonical] of [
      ['UTC', 'UTC'],
      ['PRC', 'Asia/Shanghai'],
      ['Asia/Tokyo', 'Asia/Tokyo'],
      ['+08:00', '+08:00'],
    ]) {
      expect(loadConfig({ ...required, DEFAULT_TIME_ZONE: zone }).defaultTimeZone, zone).toBe(canonical);
    }
  });

  it('names a set variable that looks like a misspelling of one of ours, with the closest, and leaves the rest alone (issue 23, item 10)', () => {
    const env = {
      ...required,
      DEFAULT_TIMEZONE: 'Asia/Tokyo',
      FEISHU_APPID: 'cli_y',
      log_level: 'debug',
      BODY_LIMIT_BYTE: '1',
      HOME: '/root',
      PATH: '/usr/bin',
      PWD: '/app',
      TERM: 'xterm',
      USER: 'node',
      SHELL: '/bin/sh',
      HOSTNAME: 'bot',
      NODE_ENV: 'production',
      LANG: 'C.UTF-8',
      PORT: '3000',
      HOST: '0.0.0.0',
    };
    expect(misspeltVariables(env)).toEqual([
      { name: 'DEFAULT_TIMEZONE', meant: 'DEFAULT_TIME_ZONE' },
      { name: 'FEISHU_APPID', meant: 'FEISHU_APP_ID' },
      { name: 'log_level', meant: 'LOG_LEVEL' },
      { name: 'BODY_LIMIT_BYTE', meant: 'BODY_LIMIT_BYTES' },
    ]);
  });

  it('gives every group its defaults from the environment: no digest and no nudges unless DIGEST_TIME and OVERDUE_NUDGE_HOURS say', () => {
    expect(loadConfig(required).groupDefaults).toEqual({
      language: 'zh_cn',
      timeZone: 'Asia/Shanghai',
      whoCreates: 'admins',
      digestTime: 'off',
      digestDays: 'workdays',
      nudgeAfterHours: 'off',
      taskSync: 'off',
      tomorrowTime: '09:00',
    });
    const set = loadConfig({ ...required, DIGEST_TIME: '9:30', DIGEST_DAYS: 'daily', OVERDUE_NUDGE_HOURS: '24', TODO_ALLOWED: 'everyone' }).groupDefaults;
    expect(set).toMatchObject({ digestTime: '09:30', digestDays: 'daily', nudgeAfterHours: 24, whoCreates: 'everyone' });
    expect(loadConfig({ ...required, DIGEST_TIME: '', OVERDUE_NUDGE_HOURS: ' ' }).groupDefaults).toMatchObject({ digestTime: 'off', nudgeAfterHours: 'off' });
    expect(loadConfig({ ...required, TASK_SYNC: 'on' }).groupDefaults.taskSync).toBe('on');
    expect(problems({ ...required, TASK_SYNC: 'yes' })).toEqual(['TASK_SYNC must be "on" or "off"']);
    expect(problems({ ...required, DIGEST_TIME: '25:00', DIGEST_DAYS: 'weekends', OVERDUE_NUDGE_HOURS: '0' })).toEqual([
      'DIGEST_TIME must be a time such as 09:00, or empty for no digest',
      'DIGEST_DAYS must be "workdays" or "daily"',
      'OVERDUE_NUDGE_HOURS must be a whole number of hours from 1 to 744, or empty for no nudges',
    ]);
  });

  it('names every missing variable with its fix, one line each', () => {
    const found = problems({ FEISHU_APP_ID: 'cli_x' });
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^FEISHU_APP_SECRET is missing: copy the App Secret/);
    expect(found.join('\n')).toMatch(/FEISHU_ENCRYPT_KEY is missing: set an Encrypt Key/);
  });

  it('names invalid values', () => {
    expect(problems({ ...required, PORT: 'eighty' })[0]).toMatch(/^PORT /);
    expect(problems({ ...required, FEISHU_DOMAIN: 'not a url' })[0]).toMatch(/^FEISHU_DOMAIN must be a base URL/);
    expect(problems({ ...required, TODO_ALLOWED: 'some' })[0]).toBe('TODO_ALLOWED must be "admins" or "everyone"');
    expect(problems({ ...required, FORM_TTL_MINUTES: '0' })[0]).toBe('FORM_TTL_MINUTES must be greater than 0');
  });

  it('reads the job lease and poll in whole seconds, and names the bounds of each when out of them', () => {
    expect(loadConfig({ ...required, JOB_LEASE_SECONDS: '5', JOB_POLL_SECONDS: '1' })).toMatchObject({ jobLeaseMs: 5_000, jobPollMs: 1_000 });
    expect(problems({ ...required, JOB_LEASE_SECONDS: '1', JOB_POLL_SECONDS: '0.5' })).toEqual([
      'JOB_LEASE_SECONDS must be a whole number of seconds from 2 to 3600',
      'JOB_POLL_SECONDS must be a whole number of seconds from 1 to 3600',
    ]);
    expect(problems({ ...required, JOB_POLL_SECONDS: 'often' })).toEqual(['JOB_POLL_SECONDS must be a whole number of seconds from 1 to 3600']);
  });

  it('reads the request timeout in whole seconds from 1 to 300 (Node checks once a second; its own default is 300 s)', () => {
    expect(loadConfig({ ...required, REQUEST_TIMEOUT_SECONDS: '1' }).requestTimeoutMs).toBe(1_000);
    expect(loadConfig({ ...required, REQUEST_TIMEOUT_SECONDS: '300' }).requestTimeoutMs).toBe(300_000);
    for (const value of ['0', '0.5', '301', 'soon']) {
      expect(problems({ ...required, REQUEST_TIMEOUT_SECONDS: value }), value).toEqual([
        'REQUEST_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 300',
      ]);
    }
  });

  it('keeps the replay window within an hour, and the body budget at least one body of the largest size', () => {
    expect(loadConfig({ ...required, REPLAY_WINDOW_SECONDS: '3600' }).replayWindowMs).toBe(3_600_000);
    expect(problems({ ...required, REPLAY_WINDOW_SECONDS: '86400' })).toEqual(['REPLAY_WINDOW_SECONDS must be a whole number of seconds from 1 to 3600']);
    expect(problems({ ...required, BODY_LIMIT_BYTES: '20000', BODY_BUDGET_BYTES: '10000' })).toEqual([
      'BODY_BUDGET_BYTES must be at least BODY_LIMIT_BYTES (20000), or a push of the largest size is never read',
    ]);
    expect(loadConfig({ ...required, BODY_LIMIT_BYTES: '10000', BODY_BUDGET_BYTES: '10000' }).bodyBudgetBytes).toBe(10_000);
  });

  it('accepts any base URL and drops a trailing slash', () => {
    expect(loadConfig({ ...required, FEISHU_DOMAIN: 'http://127.0.0.1:9999/' }).feishuDomain).toBe('http://127.0.0.1:9999');
  });

  it('takes pushes by webhook unless FEISHU_EVENTS says long-connection, which needs no Encrypt Key or Verification Token', () => {
    expect(loadConfig(required)).toMatchObject({ events: 'webhook', encryptKey: 'e', verificationToken: 'v' });
    const overConnection = loadConfig({ FEISHU_APP_ID: 'cli_x', FEISHU_APP_SECRET: 's', FEISHU_EVENTS: 'long-connection' });
    expect(overConnection.events).toBe('long-connection');
    expect(overConnection).not.toHaveProperty('encryptKey');
    expect(overConnection).not.toHaveProperty('verificationToken');
    // An .env.example left with empty values is fine in that mode.
    expect(problems({ FEISHU_APP_ID: 'cli_x', FEISHU_APP_SECRET: 's', FEISHU_EVENTS: 'long-connection', FEISHU_ENCRYPT_KEY: '' })).toEqual([]);
    expect(problems({ FEISHU_APP_ID: 'cli_x', FEISHU_EVENTS: 'long-connection' })).toEqual([expect.stringMatching(/^FEISHU_APP_SECRET is missing/)]);
    expect(problems({ FEISHU_APP_ID: 'cli_x', FEISHU_APP_SECRET: 's', FEISHU_EVENTS: 'webhook' })).toHaveLength(2);
    expect(problems({ ...required, FEISHU_EVENTS: 'websocket' })).toEqual(['FEISHU_EVENTS must be "webhook" or "long-connection"']);
  });

  it('reads a blank value as unset: never a random port, an empty host or an fsync per write', () => {
    const config = loadConfig({ ...required, PORT: '', HOST: '  ', STORE_FSYNC_MS: '', LOG_LEVEL: '', DATA_FILE: '' });
    expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', storeFsyncMs: 1000, logLevel: 'info', dataFile: './data/db.json' });
    expect(problems({ ...required, FEISHU_APP_SECRET: '' })[0]).toMatch(/^FEISHU_APP_SECRET is missing: /);
  });

  it('takes LOG_LEVEL in any case, and names the levels when it is none of them', () => {
    expect(loadConfig({ ...required, LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    expect(loadConfig({ ...required, LOG_LEVEL: 'Warn' }).logLevel).toBe('warn');
    expect(problems({ ...required, LOG_LEVEL: 'verbose' })[0]).toBe('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent');
  });

  it('refuses the placeholders of .env.example with a sentence saying where the real value is', () => {
    expect(problems({ ...required, FEISHU_APP_ID: 'cli_xxxxxxxxxxxxxxxx' })).toEqual([
      'FEISHU_APP_ID is still the placeholder from .env.example: copy the App ID from the developer console, Credentials & Basic Info',
    ]);
  });

  it('says every problem on a line of its own, each starting with the variable', () => {
    const error = (() => {
      try {
        loadConfig({ FEISHU_APP_ID: 'cli_x', PORT: 'x' });
      } catch (e) {
        return e as Error;
      }
    })();
    const lines = error?.message.split('\n') ?? [];
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toMatch(/^[A-Z_]+ /);
  });

  it('does not put secret values into its error', () => {
    const secrets = { FEISHU_APP_SECRET: 'app-secret-9f2c', FEISHU_ENCRYPT_KEY: 'encrypt-key-4b1d', FEISHU_VERIFICATION_TOKEN: 'token-77aa' };
    const database = 'postgres://bot:db-password-31@';
    expect(() => loadConfig({ ...required, ...secrets, PORT: 'x', DATABASE_URL: database })).toThrow(ConfigError);
    const message = problems({ ...required, ...secrets, PORT: 'x', DATABASE_URL: database }).join('\n');
    expect(message).toMatch(/^PORT /m);
    for (const value of [...Object.values(secrets), 'db-password-31']) expect(message).not.toContain(value);
  });

  it('chooses PostgreSQL when DATABASE_URL is set, and says plainly what is wrong with a malformed one', () => {
    expect(loadConfig(required)).toMatchObject({ databaseSchema: 'public', databasePoolSize: 10 });
    expect(loadConfig({ ...required, DATABASE_URL: '' }).databaseUrl).toBeUndefined();
    expect(loadConfig({ ...required, DATABASE_URL: 'postgres://bot:pw@db:5432/todo', DATABASE_SCHEMA: 'todo_bot' })).toMatchObject({
      databaseUrl: 'postgres://bot:pw@db:5432/todo',
      databaseSchema: 'todo_bot',
    });
    expect(problems({ ...required, DATABASE_URL: 'db.internal:5432' })).toEqual([
      'DATABASE_URL must start with postgres:// or postgresql://, not db.internal://',
    ]);
    expect(problems({ ...required, DATABASE_URL: 'not a url' })).toEqual([
      'DATABASE_URL is not a URL: write it as postgres://user:password@host:5432/database',
    ]);
    expect(problems({ ...required, DATABASE_URL: 'mysql://bot:secret@db/todo' })).toEqual([
      'DATABASE_URL must start with postgres:// or postgresql://, not mysql://',
    ]);
    expect(problems({ ...required, DATABASE_URL: 'postgres://bot:secret@db:5432' })[0]).toMatch(/^DATABASE_URL names no database/);
    expect(problems({ ...required, DATABASE_URL: 'postgres://bot:50%@db/todo' })[0]).toMatch(/^DATABASE_URL has a broken %-escape/);
    expect(problems({ ...required, DATABASE_URL: 'postgres://db/todo', DATABASE_SCHEMA: 'Todo-Bot' })[0]).toMatch(/^DATABASE_SCHEMA must be a lower-case name/);
    expect(problems({ ...required, DATABASE_POOL_SIZE: '0' })).toEqual(['DATABASE_POOL_SIZE must be greater than 0']);
    expect(loadConfig({ ...required, DATABASE_SYNCHRONOUS_COMMIT: 'off' }).databaseSynchronousCommit).toBe('off');
    expect(problems({ ...required, DATABASE_SYNCHRONOUS_COMMIT: 'sometimes' })).toEqual([
      'DATABASE_SYNCHRONOUS_COMMIT must be one of on, off, local, remote_write, remote_apply',
    ]);
  });

  it('never repeats a database password in its error', () => {
    for (const databaseUrl of ['mysql://bot:hunter2@db/todo', 'postgres://bot:hunter2%@db/todo']) {
      const found = problems({ ...required, DATABASE_URL: databaseUrl });
      // Were the address accepted, there would be no error and the check below would hold vacuously.
      expect(found).toEqual([expect.stringMatching(/^DATABASE_URL /)]);
      expect(found.join('\n')).not.toContain('hunter2');
    }
  });

  it('reads the store’s settings alone for `npm run store`, without the Feishu credentials', () => {
    expect(loadStoreConfig({ DATA_FILE: '/tmp/x.json', DATABASE_URL: 'postgresql://db/todo' })).toEqual({
      dataFile: '/tmp/x.json',
      storeFsyncMs: 1000,
      databaseUrl: 'postgresql://db/todo',
      databaseSchema: 'public',
      databasePoolSize: 10,
    });
    expect(() => loadStoreConfig({ DATABASE_URL: 'http://db' })).toThrow(/DATABASE_URL must start with postgres:\/\//);
  });
});

describe('the documented variables', () => {
  const text = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  const names = (pattern: RegExp, file: string) => [...text(file).matchAll(pattern)].map((match) => match[1] as string).sort();

  it('are the variables the bot reads, each once, in .env.example (set or commented out) and in both READMEs', () => {
    const known = [...KNOWN_VARIABLES].sort();
    expect(names(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm, '.env.example')).toEqual(known);
    // The configuration tables' rows: a variable in backticks in the first column.
    expect(names(/^\| `([A-Z][A-Z0-9_]*)` \|/gm, 'README.md')).toEqual(known);
    expect(names(/^\| `([A-Z][A-Z0-9_]*)` \|/gm, 'README.zh-CN.md')).toEqual(known);
  });
});
