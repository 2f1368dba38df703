import { existsSync } from 'node:fs';
import { type RunningApp, startApp } from './app';
import { type Config, loadConfig, misspeltVariables } from './config';
import { ErrorCode, errorCode } from './errors';
import { createLogger } from './log';
import { startupFailureLine } from './startup-failure';

/** Start-up and graceful shutdown; everything else is in `app.ts`. */

/** Past this a stop is cut short (the app's own bounds end well before it; see STOP_GRACE_MS in app.ts). */
const STOP_DEADLINE_MS = 10_000;

/** A start-up failure: one plain line on stderr, no JSON twin, exit code 1. */
function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

let config: Config;
try {
  if (existsSync('.env')) process.loadEnvFile('.env');
  config = loadConfig(process.env);
} catch (error) {
  if (errorCode(error) !== ErrorCode.ConfigInvalid) fail(`.env could not be read: ${(error as Error).message}`);
  // A misspelt variable is the likeliest reason a required one is missing: named beside it.
  fail([(error as Error).message, ...misspeltVariables(process.env).map(misspeltLine)].join('\n'));
}

function misspeltLine({ name, meant }: { name: string; meant: string }): string {
  return `${name} is not a setting of the bot: did you mean ${meant}?`;
}

const logger = createLogger(config.logLevel);
for (const misspelt of misspeltVariables(process.env)) logger.warn({ variable: misspelt.name, meant: misspelt.meant }, misspeltLine(misspelt));
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

let app: RunningApp | undefined;
let stopSignal: string | undefined;
const shutdown = async (signal: string) => {
  if (stopSignal) return;
  stopSignal = signal;
  // A signal during start-up is acted on as soon as the app is up (start-up is itself bounded: the Feishu check, the
  // store's connection and the long connection's first wait each have their own limit).
  if (!app) return;
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    logger.error(`stopping took longer than ${STOP_DEADLINE_MS / 1000} s; exiting (stored work resumes at the next start)`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
  force.unref();
  await app.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  app = await startApp(config, { logger });
} catch (error) {
  fail(startupFailureLine(error, config));
}
if (stopSignal) {
  const signal = stopSignal;
  stopSignal = undefined;
  await shutdown(signal);
}
