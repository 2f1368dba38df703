import { afterAll, expect, it } from 'vitest';
import { type Emulator, cardActionEvent, messageEvent, startEmulator } from '../../emulator';
import { derivedId } from '../../src/bot/services';
import { formCardIds } from '../../src/domain/todo-form';
import type { PostgresStore } from '../../src/store/postgres/postgres-store';
import { SECRETS, formValues } from '../e2e/harness';
import { MESSAGES, adminGroup, feishuPush, figure, formIdOf, groupCards, itemNumbers, tempDirs, visibleForms, waitFor } from '../reliability/support';
import { describePostgres, dropSchema, openPostgresStore, uniqueSchema } from '../support/postgres';
import { type ProcessFleet, spawnFleet } from './processes';

/**
 * Three real bot processes on one PostgreSQL schema. People open and submit forms through whichever instance the
 * load balancer picks; Feishu holds every post for a while, and the instance holding the most posting jobs is
 * SIGKILLed while its posts are in flight: Feishu still makes them, the dead instance never hears so. Its jobs'
 * leases run out and the other instances resume them at their last finished step: each to-do is posted exactly once
 * (the repeated post carries the same uuid, which Feishu drops) and each form card is deleted.
 */

const PEOPLE = 6;
/** Short leases, so the dead instance's jobs are resumed within seconds (yet long enough for a loaded machine to renew). */
const LEASE_S = 5;
const CHAT = 'oc_fleet_crash';
/** Feishu holds each post this long, so that the kill lands while posts are on the wire. */
const POST_HELD_MS = 2_000;
const users = Array.from({ length: PEOPLE }, (_, i) => `ou_fleet_crash_${i}`);
const textOf = (i: number) => `Fleet crash item ${i} end`;
const openEventOf = (i: number) => `ev_fleet_crash_open_${i}`;

let emu: Emulator | undefined;
let store: PostgresStore | undefined;
let schema: string | undefined;
let fleet: ProcessFleet | undefined;
const tempDir = tempDirs('todo-fleet-crash-');
afterAll(async () => {
  await fleet?.kill();
  await store?.close();
  await emu?.close();
  if (schema) await dropSchema(schema);
});

describePostgres('an instance SIGKILLed mid-submit', () => {
  it('leaves every to-do posted exactly once and every form deleted, by the instances still running', async () => {
    const started = performance.now();
    emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, chats: [adminGroup(CHAT, users)] });
    const feishu = emu;
    feishu.fault({ method: 'POST', path: MESSAGES, delayMs: POST_HELD_MS, times: Number.POSITIVE_INFINITY });
    schema = uniqueSchema('fleet_crash');
    const processes = await spawnFleet({ emu: feishu, schema, dir: await tempDir(), env: { JOB_LEASE_SECONDS: String(LEASE_S) } });
    fleet = processes;
    const { bots, urls } = processes;
    store = await openPostgresStore(schema, 2);
    const fleetStore = store;
    // The load balancer: each push to a random instance that is up.
    const balanced = () => urls[processes.pick()] as string;

    // Everyone opens a form and submits it, each push through the balancer; every answer comes from the database.
    await Promise.all(
      users.map(async (user, i) => {
        const opened = await feishuPush(
          `${balanced()}/webhook/event`,
          messageEvent({
            token: SECRETS.verificationToken,
            senderId: user,
            chatId: CHAT,
            text: `@_user_1 /todo ${textOf(i)}`,
            mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
            eventId: openEventOf(i),
          }),
          SECRETS.encryptKey,
        );
        expect(opened?.status).toBe(200);
        const card = await waitFor(() => visibleForms(feishu, CHAT, user)[0], `the form of ${user}`, 20_000, 50);
        const click = cardActionEvent({
          token: SECRETS.verificationToken,
          operatorId: user,
          chatId: CHAT,
          messageId: card.messageId,
          value: { action: 'todo.submit', formId: formIdOf(card) },
          formValue: formValues({ text: textOf(i) }),
          eventId: `ev_fleet_crash_click_${i}`,
        });
        const answer = await feishuPush(`${balanced()}/webhook/card`, click, SECRETS.encryptKey);
        expect(answer?.body?.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
      }),
    );

    // Every submit became a posting job; wait until their posts are on the wire, held by Feishu.
    const postJobIds = await Promise.all(
      users.map(async (_, i) => {
        const form = await fleetStore.form(derivedId('form', openEventOf(i)));
        return `todo.post:${form?.todoId}`;
      }),
    );
    await waitFor(() => feishu.arrivedCalls('POST', MESSAGES) >= PEOPLE, 'every post to reach Feishu', 20_000);
    const leases = await Promise.all(postJobIds.map(async (id) => ({ id, owner: (await fleetStore.job(id))?.lease?.owner })));
    const pidOf = (owner: string | undefined) => Number(owner?.split(':')[1]);
    const held = (i: number) => leases.filter((lease) => pidOf(lease.owner) === bots[i]?.child.pid);
    const victim = [0, 1, 2].sort((a, b) => held(b).length - held(a).length)[0] as number;
    const victimJobs = held(victim).map((lease) => lease.id);
    expect(victimJobs.length).toBeGreaterThan(0);

    const postsBeforeKill = feishu.successfulCallsTo('POST', MESSAGES).length;
    const victimPid = bots[victim]?.child.pid;
    const killedAt = performance.now();
    bots[victim]?.child.kill('SIGKILL');
    await bots[victim]?.exited;

    // Another instance takes each dead lease over once it runs out (lease 5 s, renewed every quarter of it; poll 5 s).
    const resumedAfterMs = new Map<string, number>();
    await waitFor(
      async () => {
        for (const id of victimJobs.filter((id) => !resumedAfterMs.has(id))) {
          const job = await fleetStore.job(id);
          if (job === undefined || (job.lease !== undefined && pidOf(job.lease.owner) !== victimPid)) resumedAfterMs.set(id, performance.now() - killedAt);
        }
        return resumedAfterMs.size === victimJobs.length;
      },
      "the dead instance's jobs to be resumed",
      40_000,
      100,
    );
    await waitFor(async () => (await fleetStore.stats()).pendingJobs === 0, 'every job to finish', 40_000, 100);

    // The dead instance comes back and joins the fleet; then every instance stops cleanly.
    await processes.start(victim);
    expect(await processes.stop()).toEqual([0, 0, 0]);

    // Exactly once: one group card per to-do, the dead instance's posts repeated with their uuids and dropped.
    const cards = groupCards(feishu);
    const items = cards.flatMap((m) => itemNumbers(m, 'Fleet crash item'));
    expect(items.sort((a, b) => a - b)).toEqual(users.map((_, i) => i));
    expect(cards).toHaveLength(PEOPLE);
    const posts = feishu.callsTo('POST', MESSAGES);
    expect(new Set(feishu.successfulCallsTo('POST', MESSAGES).map((call) => call.response.data.message_id)).size).toBe(PEOPLE);
    expect(posts.length).toBeGreaterThan(PEOPLE);
    expect(new Set(posts.map((call) => call.body?.uuid)).size).toBe(PEOPLE);

    // Nothing lost: every form posted and its card deleted, every to-do open on its card, no job left.
    for (const [i] of users.entries()) {
      const form = await fleetStore.form(derivedId('form', openEventOf(i)));
      expect(form?.status).toBe('posted');
      const todo = await fleetStore.todo(form?.todoId as string);
      expect(todo).toMatchObject({ status: 'open', messageId: expect.any(String) });
      expect(formCardIds(form as NonNullable<typeof form>).length).toBeGreaterThan(0);
      for (const id of formCardIds(form as NonNullable<typeof form>)) expect(feishu.messages.get(id)?.deleted).toBe(true);
    }
    expect((await fleetStore.stats()).pendingJobs).toBe(0);
    const failures = processes.spawned.flatMap((bot) => bot.lines).filter((line) => line.includes('job abandoned') || line.includes('"level":50'));
    expect(failures).toEqual([]);

    figure(
      `fleet crash — ${PEOPLE} submits through 3 instances on PostgreSQL, the one holding ${victimJobs.length} posting jobs SIGKILLed ` +
        `while Feishu held its posts (${postsBeforeKill} posts answered before the kill): ${cards.length} final cards, 0 duplicates ` +
        `(${posts.length} post attempts, ${PEOPLE} uuids), ${PEOPLE} forms deleted, 0 lost; its jobs resumed by another instance ` +
        `${[...resumedAfterMs.values()].map((ms) => (ms / 1000).toFixed(1)).join(', ')} s after the kill (bound: lease ${LEASE_S} s + poll 5 s); ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 180_000);
});
