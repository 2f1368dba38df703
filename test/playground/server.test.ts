import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Playground, startPlayground } from '../../playground/server/playground';
import type { PlaygroundView } from '../../playground/shared/view';

/**
 * The playground's server over real HTTP: what each person is sent, how a click's answer is applied, the clock, and
 * the guards that keep other sites from using it. The bot behind it is the real bot, reached by signed pushes.
 */

let playground: Playground;
beforeEach(async () => {
  playground = await startPlayground();
});
afterEach(async () => {
  await playground.stop();
});

const ADMIN = 'ou_alex';
const TOPICS = 'oc_release_topics';
const MEMBER = 'ou_chris';

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(new URL(path, playground.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text() };
}

const viewOf = async (viewer: string) => (await (await fetch(new URL(`/api/state?viewer=${viewer}`, playground.url))).json()) as PlaygroundView;
const stateIn = (viewer: string, chat: string) => fetch(new URL(`/api/state?viewer=${viewer}&chat=${chat}`, playground.url));
const viewIn = async (viewer: string, chat: string) => (await (await stateIn(viewer, chat)).json()) as PlaygroundView;

/** fetch() will not send another Host header; a DNS-rebinding page's request would carry its own host name. */
function postWithHost(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, playground.url), { method: 'POST', headers: { host, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ sender: ADMIN, text: 'hi' }));
  });
}

async function settled() {
  await new Promise((resolve) => setTimeout(resolve, 20));
  await playground.app.settled();
}

/** `/todo` from the admin, and the form card the bot sent them. */
async function openForm() {
  expect((await post('/api/messages', { sender: ADMIN, text: '@To-do Bot /todo Ship it' })).body).toEqual({ status: 200 });
  await settled();
  const form = (await viewOf(ADMIN)).messages.find((m) => m.onlyYou);
  if (!form) throw new Error('no form');
  return form;
}

const submitClick = (form: { id: string; body: unknown }, formValue: Record<string, unknown>) => {
  const formId = JSON.stringify(form.body).match(/"formId":"([^"]+)"/)?.[1];
  return { operator: ADMIN, messageId: form.id, click: { tag: 'button', name: 'submit', value: { action: 'todo.submit', formId }, formValue } };
};

describe('the playground server', () => {
  it("sends each person only what their client shows: another's ephemeral card is neither listed nor clickable", async () => {
    const form = await openForm();
    expect((await viewOf(ADMIN)).messages.map((m) => [m.senderId, m.onlyYou])).toEqual([
      [ADMIN, false],
      ['ou_bot', true],
    ]);
    expect((await viewOf(MEMBER)).messages.map((m) => m.senderId)).toEqual([ADMIN]);
    const stolen = await post('/api/actions', { ...submitClick(form, { todo_text: 'hijack' }), operator: MEMBER });
    expect(stolen.status).toBe(404);
  });

  it("applies a callback's answer: the toast comes back and a returned card replaces the clicked one at once", async () => {
    const form = await openForm();
    const submitted = await post('/api/actions', submitClick(form, { todo_text: 'Ship it' }));
    expect(submitted.body.toast).toMatchObject({ type: 'success' });
    await settled();
    const todo = (await viewOf(ADMIN)).messages.find((m) => m.body.kind === 'card' && !m.onlyYou);
    const todoId = JSON.stringify(todo?.body).match(/"todoId":"([^"]+)"/)?.[1];

    const message = playground.emu.messages.get(todo?.id ?? '');
    // The card may have been updated once already (task sync adds "Open in Feishu Task"); the click adds no update.
    const updatesBefore = message?.updates.length;
    const done = await post('/api/actions', { operator: ADMIN, messageId: todo?.id, click: { tag: 'button', value: { action: 'todo.done', todoId } } });
    expect(done.body.toast).toMatchObject({ type: 'success', content: 'Marked done.' });
    // Before the bot's PATCH: the answer's card is already what everyone sees.
    expect(message?.updates).toHaveLength(updatesBefore ?? 0);
    expect(JSON.stringify((await viewOf(MEMBER)).messages.find((m) => m.id === todo?.id)?.body)).toContain('todo.reopen');
  });

  it("lists each person's Feishu Tasks beside their feed, and completing one there reaches the bot as Feishu's event", async () => {
    const form = await openForm();
    await post('/api/actions', submitClick(form, { todo_text: 'Ship it', assignees: [MEMBER] }));
    await settled();
    const [task] = (await viewOf(ADMIN)).tasks;
    expect(task).toMatchObject({ summary: 'Ship it', memberIds: [MEMBER, ADMIN], completed: false });
    // Only a member of the task has it in their list.
    expect((await post('/api/tasks', { userId: 'ou_bea', guid: task?.guid, change: 'complete' })).status).toBe(404);
    expect((await post('/api/tasks', { userId: MEMBER, guid: 'nope', change: 'complete' })).status).toBe(404);

    // The emulator pushes the event itself, as Feishu does, and answers once the bot took it.
    expect((await post('/api/tasks', { userId: MEMBER, guid: task?.guid, change: 'complete' })).body).toEqual({ eventTypes: ['task_completed_update'] });
    await settled();
    const view = await viewOf(MEMBER);
    expect(view.tasks[0]?.completed).toBe(true);
    const card = view.messages.find((m) => m.body.kind === 'card' && !m.onlyYou);
    const shown = playground.emu.messages.get(card?.id ?? '');
    expect(JSON.stringify(shown?.updates.at(-1))).toContain('Done in Feishu Task');
  });

  it('moves the shared clock, and the bot acts on what came due before the answer', async () => {
    const form = await openForm();
    const before = playground.clock.now();
    const moved = await post('/api/clock', { minutes: 25 * 60 });
    expect(moved.body.now).toBeGreaterThanOrEqual(before + 25 * 3_600_000);
    // The unsubmitted form expired (FORM_TTL_MINUTES, a day) and its card was deleted.
    expect(playground.emu.messages.get(form.id)?.deleted).toBe(true);
    expect((await viewOf(ADMIN)).messages.some((m) => m.onlyYou)).toBe(false);
    expect((await post('/api/clock', { minutes: -5 })).status).toBe(400);
  });

  it('quotes the message a reply answers', async () => {
    await post('/api/messages', { sender: ADMIN, text: 'Who has the notes?' });
    const question = (await viewOf(MEMBER)).messages[0];
    await post('/api/messages', { sender: MEMBER, text: 'I do', parentId: question?.id });
    const reply = (await viewOf(ADMIN)).messages[1];
    expect(reply).toMatchObject({
      senderId: MEMBER,
      body: { kind: 'text', text: 'I do' },
      replyTo: { id: question?.id, body: { kind: 'text', text: 'Who has the notes?' } },
    });
  });

  it("lists each person's chats, both groups and their own direct chat with the bot, and keeps a direct chat its person's", async () => {
    const { chats } = await viewOf(ADMIN);
    expect(chats.map((c) => [c.name, c.kind, c.memberCount])).toEqual([
      ['Release squad', 'group', 4],
      ['Release topics', 'topic', 4],
      ['To-do Bot', 'direct', 2],
    ]);
    const direct = chats[2]?.id as string;

    // A message in the topic group starts a topic; /todo there brings the form to the direct chat, not as an ephemeral card.
    expect((await post('/api/messages', { sender: ADMIN, chatId: TOPICS, text: '/todo Renew the domain' })).body).toEqual({ status: 200 });
    await settled();
    const [command, ...rest] = (await viewIn(ADMIN, TOPICS)).messages;
    expect(rest).toEqual([]);
    expect(command?.threadId).toMatch(/^omt_/);
    const inDirect = await viewIn(ADMIN, 'direct');
    expect(inDirect.chat.id).toBe(direct);
    expect(inDirect.messages.map((m) => [m.senderId, m.onlyYou, m.body.kind])).toEqual([['ou_bot', false, 'card']]);
    expect(inDirect.chats.find((c) => c.id === direct)?.messages).toBe(1);

    // Another person sees neither that chat nor its form, and cannot write there or click the form.
    expect((await stateIn(MEMBER, direct)).status).toBe(404);
    expect((await post('/api/messages', { sender: MEMBER, chatId: direct, text: 'hi' })).status).toBe(404);
    const form = inDirect.messages[0] as { id: string; body: unknown };
    expect((await post('/api/actions', { ...submitClick(form, { todo_text: 'hijack' }), operator: MEMBER })).status).toBe(404);
    // A reply goes to a message of the chat it is written in.
    expect((await post('/api/messages', { sender: ADMIN, text: 'hi', parentId: command?.id })).status).toBe(404);
  });

  it('refuses requests from other sites, by another host name, or not in JSON, and people not in the chat', async () => {
    expect((await post('/api/messages', { sender: ADMIN, text: 'hi' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await postWithHost('/api/messages', 'rebound.example')).toBe(403);
    expect((await post('/api/messages', { sender: ADMIN, text: 'hi' }, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/api/messages', { sender: 'ou_stranger', text: 'hi' })).status).toBe(400);
    expect((await viewOf(ADMIN)).messages).toEqual([]);
  });

  it('serves the page with a policy that runs no inline or foreign script', async () => {
    const page = await fetch(playground.url);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
    expect((await fetch(new URL('/app.js', playground.url))).status).toBe(200);
  });
});

it('removes the bot’s data folder when it stops', async () => {
  const running = await startPlayground();
  const dataFile = running.app.services.config.dataFile;
  expect(existsSync(dataFile) || existsSync(`${dataFile}.log`)).toBe(true);
  await running.stop();
  expect(existsSync(dataFile.replace(/\/db\.json$/, ''))).toBe(false);
});
