import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

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
      bodyLimitBytes: 1024 * 1024,
      maxConnections: 512,
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
    expect(problems({ ...required, DEFAULT_TIME_ZONE: 'Mars/Olympus' })).toEqual(['DEFAULT_TIME_ZONE must be an IANA time zone such as Asia/Shanghai or Europe/Berlin']);
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

  it('does not put secret values into its error', () => {
    try {
      loadConfig({ ...required, FEISHU_APP_SECRET: '', PORT: 'x' });
    } catch (error) {
      expect((error as Error).message).not.toContain('cli_x');
    }
  });
});
