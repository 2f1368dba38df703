import { afterAll, expect, it } from 'vitest';
import type { Delivery } from '../../emulator';
import type { Todo } from '../../src/domain/model';
import { SECRETS, postTodo } from '../e2e/harness';
import { describePostgres } from '../support/postgres';
import { type Fleet, startFleet } from './fleet';

/**
 * Feishu Task sync on three instances sharing one PostgreSQL schema: each to-do becomes one task, whichever instance
 * runs its jobs, and the reconcile sweep of a window runs once for the fleet (every instance's scheduler asks for it).
 */

const TODOS = 9;
const MINUTE = 60_000;
let clock = Date.UTC(2026, 11, 7, 1, 0);
let f: Fleet | undefined;
afterAll(async () => {
  await f?.stop();
});

describePostgres('task sync through a fleet', () => {
  it(`${TODOS} to-dos through three instances: one task each, one sweep per window, and events on any instance`, { timeout: 120_000 }, async () => {
    f = await startFleet({ env: { TASK_SYNC: 'on' }, app: { now: () => clock } });
    const fleet = f;
    const posted = [];
    for (let i = 0; i < TODOS; i++) posted.push(await postTodo(fleet, { text: `fleet task ${i}`, assignees: ['ou_alice'] }));
    await fleet.settled();

    const todos = (await Promise.all(posted.map((p) => fleet.store.todo(p.todoId)))) as Todo[];
    expect(fleet.emu.tasks.size).toBe(TODOS);
    expect(new Set(todos.map((todo) => todo.task?.guid)).size).toBe(TODOS);
    for (const todo of todos) expect(fleet.emu.tasks.get(todo.task?.guid as string)?.extra).toBe(todo.id);
    // One create call per to-do: no instance ran another's create.
    expect(fleet.emu.callsTo('POST', '/open-apis/task/v2/tasks')).toHaveLength(TODOS);

    // Three completed in Feishu Task, their events lost: the next window's sweep reads every synced open to-do once.
    for (const todo of todos.slice(0, 3)) await fleet.emu.changeTaskAsUser(todo.task?.guid as string, 'ou_alice', { complete: true }, { eventLost: true });
    const readsBefore = fleet.emu.callsTo('GET', /^\/open-apis\/task\/v2\/tasks\//).length;
    clock += 10 * MINUTE;
    fleet.wake();
    await fleet.settled();
    fleet.wake();
    await fleet.settled();
    expect(fleet.emu.callsTo('GET', /^\/open-apis\/task\/v2\/tasks\//).length - readsBefore).toBe(TODOS);
    const after = (await Promise.all(posted.map((p) => fleet.store.todo(p.todoId)))) as Todo[];
    expect(after.map((todo) => todo.status)).toEqual([...Array(3).fill('done'), ...Array(TODOS - 3).fill('open')]);

    // Feishu pushes the completion to the balancer, which hands it to one instance, and its retry to another: handled once.
    const fourth = after[3] as Todo;
    fleet.emu.setEventSubscription({
      url: `${fleet.instances[0]?.url}/webhook/event`,
      verificationToken: SECRETS.verificationToken,
      encryptKey: SECRETS.encryptKey,
      clock: () => clock,
    });
    await fleet.emu.changeTaskAsUser(fourth.task?.guid as string, 'ou_alice', { complete: true });
    const pushed = fleet.emu.deliveries.at(-1) as Delivery;
    expect((await fleet.emu.redeliver(pushed, { to: `${fleet.instances[1]?.url}/webhook/event` })).status).toBe(200);
    await fleet.settled();
    expect((await fleet.store.todo(fourth.id))?.status).toBe('done');
    expect(fleet.emu.callsTo('GET', `/open-apis/task/v2/tasks/${fourth.task?.guid}`).length).toBe(2);
  });
});
