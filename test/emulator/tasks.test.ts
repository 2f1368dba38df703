import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, signPush, startEmulator } from '../../emulator';
import { FeishuClient } from '../../src/feishu/client';
import { decryptPush } from '../../src/feishu/decrypt';
import { FeishuApiError } from '../../src/feishu/errors';
import type { NewFeishuTask } from '../../src/feishu/tasks';
import { createLogger } from '../../src/log';
import { SECRETS } from '../bot-env';

/** The emulator's Feishu Task v2, through the bot's own client: the shapes both sides agree on, and Feishu's refusals. */

let emu: Emulator;
let feishu: FeishuClient;

beforeAll(async () => {
  emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
  feishu = new FeishuClient({
    appId: SECRETS.appId,
    appSecret: SECRETS.appSecret,
    domain: emu.url,
    timeoutMs: 5_000,
    logger: createLogger('silent'),
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.reset();
  emu.setTaskScope(true);
});

const DUE = Date.UTC(2026, 11, 7, 1, 0);
const newTask = (over: Partial<NewFeishuTask> = {}): NewFeishuTask => ({
  summary: 'Ship the release notes',
  assigneeIds: ['ou_alice', 'ou_bob'],
  followerIds: ['ou_admin'],
  dueAt: DUE,
  clientToken: 'todo_1',
  origin: { name: { zh_cn: '待办机器人', en_us: 'To-do Bot' }, url: 'https://applink.feishu.cn/client/chat/open?openChatId=oc_group', title: 'oc_group' },
  extra: 'todo_1',
  ...over,
});

describe('Feishu Task v2 in the emulator', () => {
  it('creates a task with every field as Feishu takes it, and a repeated client_token makes no second task', async () => {
    const first = await feishu.tasks.create(newTask());
    const again = await feishu.tasks.create(newTask());
    expect(again.guid).toBe(first.guid);
    expect(emu.tasks.size).toBe(1);
    expect(first.url).toMatch(/^https:\/\/applink\.feishu\.cn\/client\/todo\/detail\?guid=/);
    expect(first.assigneeIds).toEqual(['ou_alice', 'ou_bob']);
    const [call] = emu.callsTo('POST', '/open-apis/task/v2/tasks');
    expect(call?.query).toEqual({ user_id_type: 'open_id' });
    expect(call?.body).toEqual({
      summary: 'Ship the release notes',
      members: [
        { id: 'ou_alice', type: 'user', role: 'assignee' },
        { id: 'ou_bob', type: 'user', role: 'assignee' },
        { id: 'ou_admin', type: 'user', role: 'follower' },
      ],
      client_token: 'todo_1',
      origin: {
        platform_i18n_name: { zh_cn: '待办机器人', en_us: 'To-do Bot' },
        href: { url: 'https://applink.feishu.cn/client/chat/open?openChatId=oc_group', title: 'oc_group' },
      },
      extra: 'todo_1',
      due: { timestamp: String(DUE), is_all_day: false },
    });
  });

  it('leaves out the due when there is no reminder, and a follower who is also an assignee', async () => {
    await feishu.tasks.create(newTask({ dueAt: undefined, followerIds: ['ou_alice'] }));
    const body = emu.callsTo('POST', '/open-apis/task/v2/tasks')[0]?.body;
    expect(body.due).toBeUndefined();
    expect(body.members.map((m: { role: string }) => m.role)).toEqual(['assignee', 'assignee']);
  });

  it('completes and reopens with completed_at as a millisecond string, and completing twice is success', async () => {
    const { guid } = await feishu.tasks.create(newTask());
    const at = DUE + 5_000;
    expect(await feishu.tasks.setCompleted(guid, at)).toBe(true);
    expect(emu.tasks.get(guid)?.completedAt).toBe(String(at));
    expect(await feishu.tasks.setCompleted(guid, at + 1)).toBe(true);
    expect((await feishu.tasks.get(guid))?.completedAt).toBe(at);
    expect(await feishu.tasks.setCompleted(guid, undefined)).toBe(true);
    expect(emu.tasks.get(guid)?.completedAt).toBe('0');
    const patches = emu.callsTo('PATCH', `/open-apis/task/v2/tasks/${guid}`).map((c) => c.body);
    expect(patches[0]).toEqual({ task: { completed_at: String(at) }, update_fields: ['completed_at'] });
    expect(patches.at(-1)).toEqual({ task: { completed_at: '0' }, update_fields: ['completed_at'] });
  });

  it('moves the due, and reads what a person changed in Feishu Task', async () => {
    const { guid } = await feishu.tasks.create(newTask());
    expect(await feishu.tasks.setDue(guid, DUE + 3_600_000)).toBe(true);
    expect(emu.tasks.get(guid)?.due).toEqual({ timestamp: String(DUE + 3_600_000), is_all_day: false });
    expect(await emu.changeTaskAsUser(guid, 'ou_alice', { assignees: ['ou_carol'] })).toEqual(['task_assignees_update']);
    expect(await emu.changeTaskAsUser(guid, 'ou_alice', { complete: true })).toEqual(['task_completed_update']);
    const read = await feishu.tasks.get(guid);
    expect(read?.assigneeIds).toEqual(['ou_carol']);
    expect(read?.completedAt).toBeGreaterThan(0);
  });

  it('answers a deleted task with 1470404, which the client reads as gone', async () => {
    const { guid } = await feishu.tasks.create(newTask());
    expect(await feishu.tasks.delete(guid)).toBe(true);
    expect(await feishu.tasks.delete(guid)).toBe(false);
    expect(await feishu.tasks.get(guid)).toBeUndefined();
    expect(await feishu.tasks.setCompleted(guid, DUE)).toBe(false);
    expect(await feishu.tasks.setDue(guid, DUE)).toBe(false);
    expect(emu.callsTo('GET', `/open-apis/task/v2/tasks/${guid}`)[0]?.status).toBe(404);
  });

  it('refuses every call without the task scopes with 99991672, naming the scopes', async () => {
    emu.setTaskScope(false);
    const refusal = await feishu.tasks.create(newTask()).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(FeishuApiError);
    expect((refusal as FeishuApiError).feishuCode).toBe(99991672);
    expect(emu.callsTo('POST', '/open-apis/task/v2/tasks')[0]?.response.msg).toContain('task:task:write');
    await expect(feishu.tasks.subscribe()).rejects.toMatchObject({ feishuCode: 99991672 });
    expect(emu.taskEventsSubscribed).toBe(false);
    emu.setTaskScope(true);
    await feishu.tasks.subscribe();
    expect(emu.taskEventsSubscribed).toBe(true);
  });

  it('refuses an origin link that is no URL with 1470400, as Feishu does', async () => {
    const origin = { ...newTask().origin, url: 'javascript:alert(1)' };
    await expect(feishu.tasks.create(newTask({ origin }))).rejects.toMatchObject({ feishuCode: 1470400, httpStatus: 400 });
    expect(emu.tasks.size).toBe(0);
  });
});

describe('task events the emulator pushes itself', () => {
  const ENCRYPT_KEY = 'task-events-key';
  let own: Emulator;
  let client: FeishuClient;
  let bot: Server;
  /** What the stand-in bot received: each push decrypted, and whether its signature was right. */
  const received: Array<{ signed: boolean; header: Record<string, string>; event: Record<string, unknown> }> = [];

  beforeAll(async () => {
    own = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
    client = new FeishuClient({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, domain: own.url, timeoutMs: 5_000, logger: createLogger('silent') });
    bot = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        const [timestamp, nonce] = [String(req.headers['x-lark-request-timestamp']), String(req.headers['x-lark-request-nonce'])];
        const signed = req.headers['x-lark-signature'] === signPush({ timestamp, nonce, encryptKey: ENCRYPT_KEY, rawBody: body });
        received.push({ signed, ...JSON.parse(decryptPush(JSON.parse(body).encrypt, ENCRYPT_KEY)) });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => bot.listen(0, '127.0.0.1', resolve));
    const { port } = bot.address() as AddressInfo;
    own.setEventSubscription({ url: `http://127.0.0.1:${port}/webhook/event`, verificationToken: 'task-events-token', encryptKey: ENCRYPT_KEY });
  });
  afterAll(async () => {
    await own.close();
    await new Promise((resolve) => bot.close(resolve));
  });

  it('pushes nothing before the app subscribes to task events, then each change, by a person or by the app', async () => {
    const { guid } = await client.tasks.create(newTask());
    await own.changeTaskAsUser(guid, 'ou_alice', { complete: true });
    expect(received).toHaveLength(0);

    await client.tasks.subscribe();
    expect(await own.changeTaskAsUser(guid, 'ou_alice', { reopen: true })).toEqual(['task_completed_update']);
    // The app's own changes too, as Feishu documents; pushed after the call that made them was answered.
    await client.tasks.setDue(guid, DUE);
    await client.tasks.delete(guid);
    await own.eventsSettled();
    expect(received.map((push) => push.signed)).toEqual([true, true, true]);
    expect(received.map((push) => push.header.event_type)).toEqual(Array(3).fill('task.task.update_user_access_v2'));
    expect(received.map((push) => push.header.token)).toEqual(Array(3).fill('task-events-token'));
    expect(received.map((push) => push.event)).toEqual([
      { task_guid: guid, event_types: ['task_completed_update'] },
      { task_guid: guid, event_types: ['task_due_update'] },
      { task_guid: guid, event_types: ['task_deleted'] },
    ]);
    expect(new Set(received.map((push) => push.header.event_id)).size).toBe(3);
  });

  it('loses the event of a change when told to, as Feishu may', async () => {
    const { guid } = await client.tasks.create(newTask({ clientToken: 'todo_lost' }));
    const before = received.length;
    await own.changeTaskAsUser(guid, 'ou_alice', { complete: true }, { eventLost: true });
    await own.eventsSettled();
    expect(received).toHaveLength(before);
    expect(own.tasks.get(guid)?.completedAt).not.toBe('0');
  });
});
