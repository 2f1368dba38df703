import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { botEnv, tempDir } from './fixtures';
import { CLICKED_TODO } from './long-connection-fixture';

/**
 * One bot for the callback-latency figure, alone in its process as `npm start` runs it: FEISHU_EVENTS from argv[2],
 * Feishu (the parent's emulator) at argv[3], a store holding the one done to-do the parent clicks. Sends `{ url }`
 * once ready, and on "stop" stops, removes its data and exits.
 */

const [events, feishuDomain] = process.argv.slice(2) as [string, string];
const dir = await tempDir(`callbacks-${events}`);
const dataFile = join(dir, 'db.json');
await writeFile(dataFile, JSON.stringify({ v: 1, collections: { todos: { [CLICKED_TODO.id]: CLICKED_TODO } } }));
// Every measured click is one person's on one card: past the default budget (10 per 10 s) the throttle would answer
// them all with its polite toast, so the budget is lifted for the figure, which measures answers, not throttling.
const extra = { FEISHU_EVENTS: events, USER_COMMAND_LIMIT: '1000000' };
const app = await startApp(loadConfig(botEnv({ feishuDomain, dataFile, extra })), { logger: createLogger('silent') });
process.send?.({ url: app.url });
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  if (message !== 'stop') return;
  void app
    .stop()
    .then(() => rm(dir, { recursive: true, force: true }))
    .then(() => process.send?.('stopped', () => process.exit(0)));
});
