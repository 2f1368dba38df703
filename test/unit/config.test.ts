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
    });
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
    try {
      loadConfig({ ...required, FEISHU_APP_SECRET: '', PORT: 'x' });
    } catch (error) {
      expect((error as Error).message).not.toContain('cli_x');
    }
  });
});
