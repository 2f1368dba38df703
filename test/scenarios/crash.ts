import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { type FaultRule, cardActionEvent, messageEvent } from '../../emulator';
import { derivedId } from '../../src/bot/services';
import type { Todo, TodoForm } from '../../src/domain/model';
import { formCardIds } from '../../src/domain/todo-form';
import { SECRETS, formValues } from '../e2e/harness';
import {
  MESSAGES,
  adminGroup,
  feishuPush,
  figure,
  formCardsByForm,
  formIdOf,
  groupCards,
  itemNumbers,
  postedItems,
  postsHeld,
  visibleForms,
  waitFor,
} from '../reliability/support';
import type { ProcessDeploy, ProcessDeployment } from './process-deployments';

/**
 * The real bot SIGKILLed while people open and submit forms: each kill at a random moment at which Feishu holds a
 * post (Feishu makes it; the dead process never hears so), and the deployment brought back as it comes back after a
 * crash. Task sync is on, and Feishu holds task creates as it holds posts, so kills also land between a task's
 * create and the recording of its guid: the create's `client_token` must make it one task all the same. Run on one process on the file store, killed up to 6 times and started again on the same DATA_FILE
 * (test/reliability/crash.test.ts), and on three processes on one PostgreSQL schema, where the instance holding the
 * most posting jobs is killed, the others resume its jobs once their leases run out, and it starts again
 * (test/fleet/fleet-crash.test.ts). What Feishu and the people do is modelled honestly:
 *
 * - Each push goes to an instance that is up, as a load balancer picks it.
 * - A message event that got no 200 (the bot was down, or died before answering) is delivered again by Feishu
 *   with the same event_id, as Feishu does (compressed here from its 15 s / 5 min / 1 h schedule).
 * - A card click is never retried by Feishu. A click that got no answer shows the person an error toast in the
 *   client, so the person clicks Submit again (a new event id), after a moment, on the form card they still see.
 * - A click that was answered "Posting your to-do…" (or "already being posted") is not repeated: the person waits
 *   for the to-do to appear. That an answered click is never lost is what this proves.
 */

const DEADLINE_MS = 75_000;
const TASKS = '/open-apis/task/v2/tasks';

export interface CrashRun {
  deploy: ProcessDeploy;
  /** A fresh temporary directory for the processes. */
  dir(): Promise<string>;
  people: number;
  /** The most kills; fewer when everyone's to-do is posted first. */
  kills: number;
  /** Calls Feishu holds for a while before making them, so that kills land mid-call (the posts among them). */
  held: Omit<FaultRule, 'times'>;
  /** Keeps the run's ids apart from other suites' (`crash`: chat `oc_crash`, admins `ou_crash_<n>`, …). */
  tag: string;
  /** The to-dos' text: `<label> <n> end`. */
  label: string;
  /** Told of the deployment once it runs, to dispose of it after the test whatever happens. */
  started(deployment: ProcessDeployment): void;
}

export async function crash(run: CrashRun): Promise<void> {
  const { people, tag, label } = run;
  const started = performance.now();
  const chat = `oc_${tag}`;
  const users = Array.from({ length: people }, (_, i) => `ou_${tag}_${i}`);
  const textOf = (i: number) => `${label} ${i} end`;
  const openEventOf = (i: number) => `ev_${tag}_open_${i}`;
  const deployment = await run.deploy({ emulator: { chats: [adminGroup(chat, users)] }, dir: await run.dir(), env: { TASK_SYNC: 'on' } });
  run.started(deployment);
  const { emu } = deployment;
  emu.fault({ ...run.held, times: Number.POSITIVE_INFINITY });
  emu.fault({ ...run.held, method: 'POST', path: TASKS, times: Number.POSITIVE_INFINITY });
  const held = () => postsHeld(emu) + emu.arrivedCalls('POST', TASKS) - emu.callsTo('POST', TASKS).length;

  // The killer: at a random moment at which Feishu holds a post or a task create, a SIGKILL, and the deployment back;
  // again and again. The first kill waits for a held post, so that at least one post is cut short and made again with
  // its uuid: with any held call, a run once killed the bot and saw no post repeated, as when every kill lands on a
  // task create.
  let kills = 0;
  let usersDone = false;
  const killer = (async () => {
    while (!usersDone && kills < run.kills) {
      await sleep(200 + Math.random() * 1_000);
      while (!usersDone && (kills === 0 ? postsHeld(emu) : held()) === 0) await sleep(10);
      if (usersDone) break;
      await deployment.killOne();
      kills++;
    }
  })();

  const posted = postedItems(emu, label);
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
    const payload = messageEvent({
      token: SECRETS.verificationToken,
      senderId: user,
      chatId: chat,
      text: `@_user_1 /todo ${textOf(i)}`,
      mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
      eventId: openEventOf(i),
    });
    for (;;) {
      inTime();
      const answer = await feishuPush(`${deployment.pick()}/webhook/event`, payload, SECRETS.encryptKey);
      if (answer?.status === 200) break;
      expect(answer === undefined || answer.status >= 500).toBe(true);
      redeliveries++;
      await sleep(200 + Math.random() * 300);
    }

    // The person clicks Submit on a form card they see, until a click is answered.
    for (;;) {
      const card = await waitFor(() => visibleForms(emu, chat, user)[0], `the form of ${user}`, DEADLINE_MS, 50);
      inTime();
      const click = cardActionEvent({
        token: SECRETS.verificationToken,
        operatorId: user,
        chatId: chat,
        messageId: card.messageId,
        value: { action: 'todo.submit', formId: formIdOf(card) },
        formValue: formValues({ text: textOf(i) }),
        timezone: 'Asia/Shanghai',
        eventId: `ev_${tag}_click_${i}_${Math.random().toString(36).slice(2)}`,
      });
      const answer = await feishuPush(`${deployment.pick()}/webhook/card`, click, SECRETS.encryptKey);
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

  try {
    await Promise.all(users.map((_, i) => person(i)));
  } finally {
    usersDone = true;
    await killer;
  }
  expect(kills).toBeGreaterThan(0);

  // Every form card the bot knows of is deleted (the last jobs may still be running), then every instance, the
  // killed ones started again, stops cleanly.
  await waitFor(() => [...formCardsByForm(emu).values()].every((cards) => cards.some((m) => m.deleted)), 'every form card to be deleted', 30_000, 50);
  // Each to-do's task made and recorded: no job left, as a live instance's /healthz reads the store.
  await waitFor(
    async () => {
      if (emu.tasks.size < people) return false;
      const health = await fetch(`${deployment.pick()}/healthz`).catch(() => undefined);
      const body = (await health?.json().catch(() => undefined)) as { components?: { store?: { pendingJobs?: number } } } | undefined;
      return body?.components?.store?.pendingJobs === 0;
    },
    'every task to be made and recorded',
    30_000,
    100,
  );
  expect(await deployment.stop()).toEqual(Array.from({ length: deployment.instances }, () => 0));
  const killed = await deployment.verify(kills);

  // Exactly once: one group card per to-do, the posts a kill cut short repeated with their uuids and dropped.
  const cards = groupCards(emu);
  const items = cards.flatMap((m) => itemNumbers(m, label));
  expect(items.sort((a, b) => a - b)).toEqual(users.map((_, i) => i));
  expect(cards).toHaveLength(people);
  const postCalls = emu.callsTo('POST', MESSAGES);
  expect(new Set(emu.successfulCallsTo('POST', MESSAGES).map((call) => call.response.data.message_id)).size).toBe(people);
  expect(postCalls.length).toBeGreaterThan(people);
  expect(new Set(postCalls.map((call) => call.body?.uuid)).size).toBe(people);

  // Nothing lost: the stored state agrees (each form posted and its cards deleted, each to-do open on its card), and
  // no work is left over.
  const stored = await deployment.stored();
  const forms = stored.flatMap((record) => (record.collection === 'forms' ? [record.value as TodoForm] : []));
  const todos = stored.flatMap((record) => (record.collection === 'todos' ? [record.value as Todo] : []));
  expect(forms.map((form) => form.id).sort()).toEqual(users.map((_, i) => derivedId('form', openEventOf(i))).sort());
  expect(forms.every((form) => form.status === 'posted')).toBe(true);
  expect(todos.map((todo) => todo.id).sort()).toEqual(forms.map((form) => form.todoId).sort());
  expect(todos.every((todo) => todo.status === 'open' && todo.messageId !== undefined)).toBe(true);
  expect(stored.filter((record) => record.collection === 'jobs')).toEqual([]);
  // One Feishu Task per to-do, however often a kill cut its create short: the create's client_token.
  const taskCreates = emu.callsTo('POST', TASKS);
  expect(emu.tasks.size).toBe(people);
  expect(new Set([...emu.tasks.values()].map((task) => task.extra)).size).toBe(people);
  expect(todos.every((todo) => todo.task !== undefined && emu.tasks.get(todo.task.guid)?.extra === todo.id)).toBe(true);
  // The card the bot sent, and any card it learnt of from a click (one whose send answer was lost).
  for (const form of forms) {
    expect(formCardIds(form).length).toBeGreaterThan(0);
    for (const id of formCardIds(form)) expect(emu.messages.get(id)?.deleted).toBe(true);
  }

  const byForm = formCardsByForm(emu);
  expect(byForm.size).toBe(people);
  expect([...byForm.values()].every((cards) => cards.some((m) => m.deleted))).toBe(true);
  const extraCards = [...byForm.values()].reduce((sum, cards) => sum + cards.filter((m) => !m.deleted).length, 0);
  expect(deployment.lines().filter((line) => line.includes('job abandoned') || line.includes('"level":50'))).toEqual([]);

  figure(
    `${tag.replaceAll('_', ' ')} — ${people} submits through ${deployment.name}, ${kills} SIGKILL${kills === 1 ? ' at a random moment' : 's at random moments'} ` +
      `while Feishu held a post or a task create (${killed}): ${cards.length} final cards, ${byForm.size} forms deleted, ` +
      `${items.length - new Set(items).size} duplicates (${postCalls.length} post attempts, ${people} uuids), 0 lost; ` +
      `${redeliveries} event redeliveries (same event_id), ${reclicks} re-clicks after unanswered clicks, ` +
      `${extraCards} extra ephemeral form cards left visible; ${emu.tasks.size} Feishu Tasks from ${taskCreates.length} creates; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
