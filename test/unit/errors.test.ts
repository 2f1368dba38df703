import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config';
import { ErrorCode, errorCode } from '../../src/errors';
import { FeishuApiError, FeishuGaveUpError, FeishuNetworkError, feishuRefusal, isFeishuError } from '../../src/feishu/errors';
import { FeishuAuthError } from '../../src/feishu/verify';
import { RetryLater } from '../../src/jobs/outbox';
import { StoreFileError } from '../../src/store/embedded/snapshot-log';
import { LeaseLost } from '../../src/store/store';

describe('error codes', () => {
  it('are one list of distinct names', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[a-z]+(_[a-z]+)+$/);
  });

  it('are carried by the bot’s errors, with the class’s name and the message', () => {
    const cases = [
      [new ConfigError(['PORT must be a number']), ErrorCode.ConfigInvalid, 'ConfigError'],
      [new StoreFileError('held by pid 7'), ErrorCode.StoreFileUnusable, 'StoreFileError'],
      [new LeaseLost('todo.post:1'), ErrorCode.LeaseLost, 'LeaseLost'],
      [new RetryLater('2 feed cards failed'), ErrorCode.JobRetryLater, 'RetryLater'],
      [new FeishuAuthError('stale'), ErrorCode.PushUnauthenticated, 'FeishuAuthError'],
      [new FeishuApiError('im.v1.message.create', 230002, 'bot not in chat', 400), ErrorCode.FeishuRefused, 'FeishuApiError'],
      [new FeishuNetworkError('im.v1.message.create', 'ECONNRESET'), ErrorCode.FeishuUnreachable, 'FeishuNetworkError'],
    ] as const;
    for (const [error, code, name] of cases) {
      expect(errorCode(error)).toBe(code);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.stack).toContain(name);
    }
  });

  it('are not confused with the codes of Node, PostgreSQL or Feishu', () => {
    expect(errorCode(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }))).toBeUndefined();
    expect(errorCode(Object.assign(new Error('could not serialize access'), { code: '40001' }))).toBeUndefined();
    expect(errorCode({ code: 230002 })).toBeUndefined();
    expect(errorCode(new Error('plain'))).toBeUndefined();
    for (const thrown of [undefined, null, 'text', 42]) expect(errorCode(thrown)).toBeUndefined();
  });

  it('let the Feishu refusal behind a given-up call be found', () => {
    const refusal = new FeishuApiError('im.v1.message.create', 230020, 'too fast', 400);
    const gaveUp = new FeishuGaveUpError('im.v1.message.create', refusal, '5 attempts failed');
    expect(isFeishuError(gaveUp)).toBe(true);
    expect(gaveUp.cause).toBe(refusal);
    expect(feishuRefusal(gaveUp)).toBe(refusal);
    expect(feishuRefusal(new FeishuGaveUpError('m', new FeishuNetworkError('m', 'ETIMEDOUT'), 'x'))).toBeUndefined();
    expect(feishuRefusal(new Error('other'))).toBeUndefined();
  });
});
