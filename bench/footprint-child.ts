import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { RECORD_VERSION, type Todo, type TodoForm } from '../src/domain/model';
import { createLogger } from '../src/log';
import { botEnv, tempDir } from './fixtures';
import { DAY, benchTodo } from './todo-fixture';

/**
 * The bot in a process of its own, holding `forms` open forms and `todos` to-dos with a reminder set, put through
 * its store and made durable as the bot would. Sends its RSS after a full GC (run with --expose-gc), then stops.
 * Usage: footprint-child.ts <forms> <todos>
 */

const [forms, todos] = process.argv.slice(2, 4).map(Number) as [number, number];
process.on('disconnect', () => process.exit(0));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const dir = await tempDir('footprint');
// Nothing here calls Feishu; the domain only has to be a valid URL.
const config = loadConfig(botEnv({ feishuDomain: 'http://127.0.0.1:9', dataFile: join(dir, 'db.json') }));
const app = await startApp(config, { logger: createLogger('silent') });
const { store } = app.services;
const now = Date.now();
const batch: { forms: TodoForm[]; todos: Todo[] } = { forms: [], todos: [] };
async function commitBatch() {
  await store.commit({ now, forms: batch.forms.splice(0), todos: batch.todos.splice(0) });
}

for (let i = 0; i < forms; i++) {
  // Distinct (chat, owner) pairs: a second form of the same person in the same chat would replace the first.
  batch.forms.push({
    v: RECORD_VERSION,
    id: `form_${i}`,
    chatId: `oc_chat${i % 100}`,
    ownerId: `ou_user${i}`,
    status: 'open',
    draftText: `Prepare the quarterly review, part ${i}`,
    messageId: `om_eph_${i}`,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + DAY,
  });
  if (i % 1000 === 999) await commitBatch();
}
for (let i = 0; i < todos; i++) {
  batch.todos.push(benchTodo(i, now, `todo_${i}`));
  if (i % 1000 === 999) await commitBatch();
}
await commitBatch();

for (let i = 0; i < 3; i++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const memory = process.memoryUsage();
await new Promise<void>((resolve) => process.send?.({ rss: memory.rss, heapUsed: memory.heapUsed }, () => resolve()));
await app.stop();
await rm(dir, { recursive: true, force: true });
process.exit(0);
