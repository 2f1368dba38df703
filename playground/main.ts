/**
 * `npm run playground`: the Feishu emulator, the real bot and a web page where you use the bot as in a Feishu group,
 * offline and with no credentials. Prints the page's address; Ctrl-C stops everything and removes the bot's data.
 */
import { startPlayground } from './server/playground';

const port = Number(process.env.PLAYGROUND_PORT ?? 5173);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PLAYGROUND_PORT must be a port number (0 for any free one), got ${JSON.stringify(process.env.PLAYGROUND_PORT)}`);
  process.exit(1);
}

const playground = await startPlayground({ port, logLevel: process.env.LOG_LEVEL ?? 'error' }).catch(async (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE') throw error;
  console.error(`Port ${port} is taken; using a free one instead.`);
  return startPlayground({ port: 0, logLevel: process.env.LOG_LEVEL ?? 'error' });
});
console.log(`\nTo-do bot playground: ${playground.url}\n(the Feishu emulator and the bot are running; Ctrl-C stops them)\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await playground.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
