import { afterAll, expect, it } from 'vitest';
import { type Emulator, cardActionEvent, messageEvent, startEmulator } from '../../emulator';
import { derivedId } from '../../src/bot/services';
import type { PostgresStore } from '../../src/store/postgres/postgres-store';
import { SECRETS, formValues } from '../e2e/harness';
import { DELETE, SEND, adminGroup, feishuPush, figure, groupCards, tempDirs, visibleForms, waitFor } from '../reliability/support';
import { describePostgres, dropSchema, openPostgresStore, uniqueSchema } from '../support/postgres';
import { type ProcessFleet, QUICK_TAKEOVER, QUICK_TAKEOVER_ENV, spawnFleet } from './processes';

/**
 * Two real bot processes on one PostgreSQL schema, with 5 s leases and a 1 s poll (`QUICK_TAKEOVER`). The instance
 * sending a person's private form card is frozen (SIGSTOP: its event loop stalls, as on a machine too busy to run it)
 * while Feishu holds its send, and stays frozen past its lease. The other instance takes the job over and sends its own card; Feishu makes the
 * first send too, but the frozen instance reads its answer only when it wakes (SIGCONT), after its lease passed on:
 * it records nothing and deletes the card it sent. The person sees one form card, Submit posts the to-do once, and
 * no side effect is left done twice.
 */

const CHAT = 'oc_fleet_stall';
const USER = 'ou_fleet_stall';
const TEXT = 'Fleet stall item end';
const OPEN_EVENT = 'ev_fleet_stall_open';
/** Feishu holds the first send this long, so the freeze lands while it is on the wire. */
const SEND_HELD_MS = 1_000;

let emu: Emulator | undefined;
let store: PostgresStore | undefined;
let schema: string | undefined;
let fleet: ProcessFleet | undefined;
const tempDir = tempDirs('todo-fleet-stall-');
afterAll(async () => {
  for (const bot of fleet?.bots ?? []) bot?.child.kill('SIGCONT');
  await fleet?.kill();
  await store?.close();
  await emu?.close();
  if (schema) await dropSchema(schema);
});

describePostgres('an instance whose event loop stalls past its lease', () => {
  it('loses the job to the other instance, and takes back the card it sent late: one form card, one to-do', async () => {
    const started = performance.now();
    emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, chats: [adminGroup(CHAT, [USER])] });
    const feishu = emu;
    feishu.fault({ method: 'POST', path: SEND, delayMs: SEND_HELD_MS, times: 1 });
    schema = uniqueSchema('fleet_stall');
    // A call's own timeout is longer than the stall: a send that timed out while its instance was frozen would be
    // sent again on waking, and the card of the first send, whose id no one ever read, is the platform limit.
    const processes = await spawnFleet({
      emu: feishu,
      schema,
      dir: await tempDir(),
      size: 2,
      env: { ...QUICK_TAKEOVER_ENV, FEISHU_TIMEOUT_MS: '60000' },
    });
    fleet = processes;
    store = await openPostgresStore(schema, { poolSize: 2 });
    const fleetStore = store;

    const opened = await feishuPush(
      `${processes.urls[0]}/webhook/event`,
      messageEvent({
        token: SECRETS.verificationToken,
        senderId: USER,
        chatId: CHAT,
        text: `@_user_1 /todo ${TEXT}`,
        mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
        eventId: OPEN_EVENT,
      }),
      SECRETS.encryptKey,
    );
    expect(opened?.status).toBe(200);
    const formId = derivedId('form', OPEN_EVENT);
    const sendJob = `form.send:${formId}`;

    // The send is on the wire, held by Feishu: freeze the instance that holds the job's lease.
    await waitFor(() => feishu.arrivedCalls('POST', SEND) >= 1, 'the form card’s send to reach Feishu', 20_000);
    const owner = (await fleetStore.job(sendJob))?.lease?.owner;
    const stalled = processes.bots.findIndex((bot) => bot?.child.pid === Number(owner?.split(':')[1]));
    expect(stalled).toBeGreaterThanOrEqual(0);
    const frozen = processes.bots[stalled];
    const other = processes.bots[1 - stalled];
    const frozenAt = performance.now();
    frozen?.child.kill('SIGSTOP');

    // Feishu makes the held send; the other instance takes the job over once the lease ran out, and sends its own.
    await waitFor(async () => (await fleetStore.job(sendJob)) === undefined, 'the other instance to finish the send job', 30_000, 50);
    const tookOverS = (performance.now() - frozenAt) / 1000;
    const form = await fleetStore.form(formId);
    const kept = form?.messageId as string;
    expect(kept).toEqual(expect.any(String));
    const sent = feishu.successfulCallsTo('POST', SEND).map((call) => call.response.data.message_id as string);
    expect(sent).toHaveLength(2);
    const late = sent.find((id) => id !== kept) as string;
    expect(feishu.messages.get(late)?.deleted).toBeFalsy();

    // The frozen instance wakes, reads the answer to its send, finds its lease gone, and deletes its card.
    frozen?.child.kill('SIGCONT');
    await waitFor(() => feishu.messages.get(late)?.deleted, 'the late card to be deleted', 20_000, 50);
    expect(visibleForms(feishu, CHAT, USER).map((card) => card.messageId)).toEqual([kept]);
    expect((await fleetStore.form(formId))?.messageId).toBe(kept);
    // Its log says so (the lines come through its stdout, after the delete).
    const frozenLines = frozen?.lines ?? [];
    const lost = () => frozenLines.filter((line) => line.includes('job lost its lease while running') && line.includes(sendJob));
    const undone = () => frozenLines.filter((line) => line.includes('its effect is undone'));
    await waitFor(() => lost().length > 0 && undone().length > 0, 'the frozen instance to log its loss', 10_000, 20);
    expect(lost()).toHaveLength(1);
    expect(undone()).toHaveLength(1);
    expect((other?.lines ?? []).filter((line) => line.includes('lost its lease'))).toEqual([]);

    // Submit on the one card the person sees, through the instance that stalled: the to-do is posted once.
    const click = cardActionEvent({
      token: SECRETS.verificationToken,
      operatorId: USER,
      chatId: CHAT,
      messageId: kept,
      value: { action: 'todo.submit', formId },
      formValue: formValues({ text: TEXT }),
      eventId: 'ev_fleet_stall_click',
    });
    const answer = await feishuPush(`${processes.urls[stalled]}/webhook/card`, click, SECRETS.encryptKey);
    expect(answer?.body?.toast).toMatchObject({ type: 'success', content: expect.stringMatching(/Posting/) });
    await waitFor(() => feishu.messages.get(kept)?.deleted, 'the form card to be deleted after the post', 20_000, 50);
    await waitFor(async () => (await fleetStore.stats()).pendingJobs === 0, 'every job to finish', 20_000, 50);
    expect(await processes.stop()).toEqual([0, 0]);

    // Nothing twice: one group card; each form card deleted once; no job abandoned, nothing logged as an error.
    expect(groupCards(feishu)).toHaveLength(1);
    const deletes = feishu.callsTo('POST', DELETE).map((call) => call.body?.message_id as string);
    expect(deletes.sort()).toEqual([kept, late].sort());
    const failures = processes.spawned.flatMap((bot) => bot.lines).filter((line) => line.includes('job abandoned') || line.includes('"level":50'));
    expect(failures).toEqual([]);

    figure(
      `fleet stall — 2 processes on PostgreSQL, ${QUICK_TAKEOVER.leaseSeconds} s leases; the one sending a form card frozen (SIGSTOP) while Feishu held ` +
        `its send: the other took the job over and sent its own card ${tookOverS.toFixed(1)} s after the freeze (bound: lease + ${QUICK_TAKEOVER.pollSeconds} s poll); ` +
        `on waking the frozen one found its lease lost and deleted its late card: 1 form card left of 2 sent, 1 group card, ` +
        `each card deleted once; ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 180_000);
});
