import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * One logger for the process. Secrets are redacted by the names of the fields that hold them, at the top of a line or
 * one level down (`err.config.headers` is not reached: errors are serialised without it), so a line shows `[Redacted]`,
 * never the value. User text and request bodies are never logged at all.
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
