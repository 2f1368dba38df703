import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type Emulator, cardActionEvent, messageEvent, startEmulator } from '../../emulator';
import type { Todo, TodoForm } from '../../src/domain/model';
import { formCardIds } from '../../src/domain/todo-form';
import { FilePersistence } from '../../src/store/embedded/snapshot-log';
import { SECRETS, botEnv, formValues } from '../e2e/harness';
import {
  type BotProcess,
  MESSAGES,
  adminGroup,
  dataFileLockIsFree,
  ensureStopped,
  feishuPush,
  figure,
  formCardsByForm,
  formIdOf,
  freePort,
  groupCards,
  itemNumbers,
  postedItems,
  spawnBot,
  tempDirs,
  visibleForms,
  waitFor,
  waitHealthy,
} from './support';

/**
 * The real bot in a child process, killed with SIGKILL at random moments while 50 admins each open and submit a
 * form, and started again on the same DATA_FILE each time. What Feishu and the people do is modelled honestly:
 *
 * - A message event that got no 200 (the bot was down, or died before answering) is delivered again by Feishu
 *   with the same event_id, as Feishu does (compressed here from its 15 s / 5 min / 1 h schedule).
 * - A card click is never retried by Feishu. A click that got no answer shows the person an error toast in the
 *   client, so the person clicks Submit again (a new event id), after a moment, on the form card they still see.
 * - A click that was answered "Posting your to-do…" (or "already being posted") is not repeated: the person waits
 *   for the to-do to appear. That an answered click is never lost is what this test proves.
 */

const N = 50;
const CHAT = 'oc_crash';
const MAX_KILLS = 6;
const DEADLINE_MS = 75_000;
const users = Array.from({ length: N }, (_, i) => `ou_crash_${i}`);
const textOf = (i: number) => `Crash item ${i} end`;

let emu: Emulator | undefined;
let bot: BotProcess | undefined;
const tempDir = tempDirs('todo-crash-');
afterAll(async () => {
  await ensureStopped(bot);
  await emu?.close();
});

describe('crash test', () => {
  it(`${N} submits with the bot SIGKILLed at random moments: every to-do posted once, every form deleted`, async () => {
    const started = performance.now();
    emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, chats: [adminGroup(CHAT, users)] });
    const feishu = emu;
    // Half of the sends, posts and deletes take 150 ms before Feishu does them, so kills often land mid-call:
    // Feishu does the work, the dead bot never hears of it.
    feishu.fault({ path: /^\/open-apis\/(ephemeral\/v1\/|im\/v1\/messages)/, delayMs: 150, probability: 0.5, times: Number.POSITIVE_INFINITY });

    const dir = await tempDir();
    const dataFile = join(dir, 'db.json');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = botEnv({ feishuDomain: feishu.url, dataFile, port, logLevel: 'warn' });
    const allLines: string[] = [];
    const restartMs: number[] = [];
    const startBot = async () => {
      const child = spawnBot(env, { cwd: dir });
      bot = child;
      void child.exited.then(() => allLines.push(...child.lines));
      restartMs.push(await waitHealthy(url, child));
    };
    await startBot();

    // The killer: a SIGKILL at a random moment, a restart once the old process is reaped, again and again.
    let kills = 0;
    let staleLockSeen = 0;
    let usersDone = false;
    const killer = (async () => {
      while (!usersDone && kills < MAX_KILLS) {
        await sleep(200 + Math.random() * 1_000);
        if (usersDone) break;
        const victim = bot as BotProcess;
        victim.child.kill('SIGKILL');
        await victim.exited;
        kills++;
        // The dead bot's note is still in the lock file; only the kernel's lock counts, and it died with the bot.
        if ((await readFile(`${dataFile}.lock`, 'utf8').catch(() => '')).includes(`"pid":${victim.child.pid}`)) staleLockSeen++;
        await startBot();
      }
    })();

    const posted = postedItems(feishu, 'Crash item');
    let redeliveries = 0;
    let reclicks = 0;
    const deadline = performance.now() + DEADLINE_MS;
    const inTime = () => {
      if (performance.now() > deadline) throw new Error('the crash test ran out of time');
    };

    const person = async (i: number) => {
      await sleep(i * 60);
      const user = users[i] as string;
      // Feishu delivers the event until it is answered 200, always with the same event_id.
      const eventId = `ev_crash_open_${i}`;
      const payload = messageEvent({
        token: SECRETS.verificationToken,
        senderId: user,
        chatId: CHAT,
        text: `@_user_1 /todo ${textOf(i)}`,
        mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
        eventId,
      });
      for (;;) {
        inTime();
        const answer = await feishuPush(`${url}/webhook/event`, payload, SECRETS.encryptKey);
        if (answer?.status === 200) break;
        expect(answer === undefined || answer.status >= 500).toBe(true);
        redeliveries++;
        await sleep(200 + Math.random() * 300);
      }

      // The person clicks Submit on a form card they see, until a click is answered.
      for (;;) {
        const card = await waitFor(() => visibleForms(feishu, CHAT, user)[0], `the form of ${user}`, DEADLINE_MS, 50);
        inTime();
        const click = cardActionEvent({
          token: SECRETS.verificationToken,
          operatorId: user,
          chatId: CHAT,
          messageId: card.messageId,
          value: { action: 'todo.submit', formId: formIdOf(card) },
          formValue: formValues({ text: textOf(i) }),
          timezone: 'Asia/Shanghai',
          eventId: `ev_crash_click_${i}_${Math.random().toString(36).slice(2)}`,
        });
        const answer = await feishuPush(`${url}/webhook/card`, click, SECRETS.encryptKey);
        const toast = answer?.status === 200 ? (answer.body?.toast as { type: string; content: string } | undefined) : undefined;
        if (toast?.type === 'success' && /Posting/.test(toast.content)) break;
        if (toast?.type === 'info' && /already being posted|already been posted/.test(toast.content)) break;
        // No answer at all, or "Working on it…": the person does not know it worked, and tries again.
        expect(toast === undefined || /Working on it/.test(toast.content), JSON.stringify(answer)).toBe(true);
        reclicks++;
        await sleep(300 + Math.random() * 500);
      }

      // Answered: the person waits for the to-do to show in the group.
      await waitFor(() => posted().has(i), `the to-do of ${user} in the group`, DEADLINE_MS, 100);
    };

    await Promise.all(users.map((_, i) => person(i)));
    usersDone = true;
    await killer;

    // Every form card the bot knows of is deleted (the last jobs may still be running).
    await waitFor(() => [...formCardsByForm(feishu).values()].every((cards) => cards.some((m) => m.deleted)), 'every form card to be deleted', 30_000, 50);
    const last = bot as BotProcess;
    last.child.kill('SIGTERM');
    const exit = await last.exited;
    expect(exit.code).toBe(0);
    expect(await dataFileLockIsFree(dataFile)).toBe(true);

    // Nothing twice: one group card per to-do, whatever was retried after a crash.
    const cards = groupCards(feishu);
    const items = cards.flatMap((m) => itemNumbers(m, 'Crash item'));
    expect(items).toHaveLength(N);
    expect(new Set(items).size).toBe(N);
    expect(cards).toHaveLength(N);
    const postCalls = feishu.callsTo('POST', MESSAGES);
    expect(new Set(feishu.successfulCallsTo('POST', MESSAGES).map((c) => c.response.data.message_id)).size).toBe(N);

    // Nothing lost: the stored state agrees, and no work is left over.
    const persistence = new FilePersistence(dataFile);
    const records = await persistence.load();
    await persistence.close();
    const forms = [...records.forms.values()] as TodoForm[];
    const todos = [...records.todos.values()] as Todo[];
    expect(forms).toHaveLength(N);
    expect(forms.every((form) => form.status === 'posted')).toBe(true);
    expect(todos).toHaveLength(N);
    expect(todos.every((todo) => todo.status === 'open' && todo.messageId !== undefined)).toBe(true);
    expect(records.jobs.size).toBe(0);
    // The card the bot sent, and any card it learnt of from a click (one whose send answer was lost).
    for (const form of forms) {
      expect(formCardIds(form).length).toBeGreaterThan(0);
      for (const id of formCardIds(form)) expect(feishu.messages.get(id)?.deleted).toBe(true);
    }

    const byForm = formCardsByForm(feishu);
    expect(byForm.size).toBe(N);
    expect([...byForm.values()].every((cards) => cards.some((m) => m.deleted))).toBe(true);
    const extraCards = [...byForm.values()].reduce((sum, cards) => sum + cards.filter((m) => !m.deleted).length, 0);
    const abandoned = allLines.concat(last.lines).filter((line) => line.includes('job abandoned') || line.includes('"level":50'));
    expect(abandoned).toEqual([]);
    expect(kills).toBeGreaterThan(0);
    expect(staleLockSeen).toBe(kills);

    const restarts = restartMs.slice(1);
    const avgRestart = restarts.reduce((a, b) => a + b, 0) / Math.max(1, restarts.length);
    figure(
      `crash — ${N} submits, ${kills} SIGKILLs at random moments (the dead bot's lock note left each time; restart to /healthz 200 ` +
        `avg ${Math.round(avgRestart)} ms): ${cards.length} final cards, ${byForm.size} forms deleted, ` +
        `${items.length - new Set(items).size} duplicates, 0 lost; ${redeliveries} event redeliveries (same event_id), ` +
        `${reclicks} re-clicks after unanswered clicks, ${postCalls.length - N} repeated posts absorbed by uuid, ` +
        `${extraCards} extra ephemeral form cards left visible; ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 120_000);
});
