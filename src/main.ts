import { existsSync } from 'node:fs';
import { startApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './log';
import { ReceiverStartError } from './receivers/receiver';
import { StoreFileError } from './store/embedded/lowdb';

/** Start-up and graceful shutdown; everything else is in `app.ts`. */

if (existsSync('.env')) process.loadEnvFile('.env');

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.logLevel);
process.on('unhandledRejection', (reason) => logger.error({ err: String(reason) }, 'unhandled rejection'));

try {
  const app = await startApp(config, { logger });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
} catch (error) {
  if (error instanceof ReceiverStartError) {
    // Like a bad variable: one line saying which setting to fix.
    console.error(error.message);
  } else if (error instanceof StoreFileError) {
    logger.fatal(error.message);
    console.error(error.message);
  } else {
    logger.fatal({ err: (error as Error).message }, 'start-up failed');
  }
  process.exit(1);
}
