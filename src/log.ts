import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * One logger for the process. Secrets are redacted by path when it is built, so no call site can leak them:
 * a line shows `[Redacted]`, never the value. User text and request bodies are never logged at all.
 */
export const REDACT_PATHS = [
  'appSecret',
  'app_secret',
  'encryptKey',
  'verificationToken',
  'token',
  'tenant_access_token',
  'authorization',
  '*.appSecret',
  '*.app_secret',
  '*.encryptKey',
  '*.verificationToken',
  '*.token',
  '*.tenant_access_token',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'config.appSecret',
  'config.encryptKey',
  'config.verificationToken',
];

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'feishu-todo-bot' },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
