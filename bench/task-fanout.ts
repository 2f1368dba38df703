import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TASK_CALLS_PER_SECOND, startEmulator } from '../emulator';
import { startApp } from '../src/app';
import { taskCreateJob } from '../src/bot/jobs/task';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { SECRETS, botEnv, median, sleep, tempDir } from './fixtures';
import type { Row } from './table';
import { benchTodo } from './todo-fixture';

/**
 * Task fan-out: 1,000 posted to-dos in a group that syncs, each becoming a Feishu Task, against an emulator that
 * enforces Feishu Task's documented limit (10 calls a second per app). The to-dos and their create jobs are stored
 * as a post stores them; measured from the first create the emulator accepted to the last, against the limit.
 */

const TODOS = Number(process.env.BENCH_TASK_TODOS ?? 1_000);
const CREATE_PATH = '/open-apis/task/v2/tasks';
const COMMIT_BATCH = 100;

export async function benchTaskFanout(log: (line: string) => void): Promise<Row[]> {
  const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, enforceRateLimits: true });
  const dir = await tempDir('task-fanout');
  const config = loadConfig(botEnv({ feishuDomain: emu.url, dataFile: join(dir, 'db.json'), extra: { TASK_SYNC: 'on' } }));
  const app = await startApp(config, { logger: createLogger('silent') });
  try {
    const { store, now } = app.services;
    const started = Date.now();
    for (let i = 0; i < TODOS; i += COMMIT_BATCH) {
      const todos = Array.from({ length: Math.min(COMMIT_BATCH, TODOS - i) }, (_, k) => benchTodo(i + k, now(), `todo_task_${i + k}`));
      await store.commit({ now: now(), todos, jobs: todos.map((todo) => taskCreateJob(app.services, todo)) });
    }
    // Twice the ideal time plus a margin, so a slow bot shows as a low rate rather than a hang.
    const deadline = started + (2 * TODOS * 1000) / TASK_CALLS_PER_SECOND + 15_000;
    while (emu.tasks.size < TODOS && Date.now() < deadline) await sleep(100);
    const accepted = emu.successfulCallsTo('POST', CREATE_PATH);
    const times = accepted.map((call) => call.at).sort((a, b) => a - b);
    const gaps = times.slice(1).map((at, i) => at - (times[i] as number));
    const created = emu.tasks.size;
    // The rate over the gaps between the first and the last create: N creates span N - 1 gaps.
    const elapsedMs = Math.max(1, (times.at(-1) ?? 0) - (times[0] ?? 0));
    const rate = ((created - 1) * 1000) / elapsedMs;
    const failed = emu.callsTo('POST', CREATE_PATH).length - accepted.length - emu.rateLimitRejections;
    const errors = emu.rateLimitRejections + failed + (TODOS - created);
    log(`task fan-out: ${created}/${TODOS} tasks in ${(elapsedMs / 1000).toFixed(1)} s = ${rate.toFixed(2)}/s, ${emu.rateLimitRejections} limit errors, ${failed} failed creates`);
    return [
      {
        figure: `task fan-out, ${TODOS.toLocaleString('en-US')} to-dos become Feishu Tasks`,
        unit: '/s',
        value: rate,
        baseline: { label: `limit ${TASK_CALLS_PER_SECOND}/s per app`, value: TASK_CALLS_PER_SECOND },
        ratio: rate / TASK_CALLS_PER_SECOND,
        target: 'ratio >= 0.90, 0 errors',
        pass: rate >= 0.9 * TASK_CALLS_PER_SECOND && errors === 0,
        note:
          `${created}/${TODOS} tasks, one per to-do, in ${(elapsedMs / 1000).toFixed(1)} s (creates ${median(gaps)} ms apart at the median, ` +
          `${Math.max(0, ...gaps)} ms at worst); ${emu.rateLimitRejections} rate-limit refusals, ${failed} other failed creates`,
      },
    ];
  } finally {
    await app.stop();
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}
