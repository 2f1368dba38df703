import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageEvent } from '../../emulator';
import { type Harness, SECRETS, startHarness } from './harness';

/**
 * Issue 13, item 5: the store holds to-do text and user ids. Its folder is created 0700 and every file in it 0600,
 * whatever the umask; chatter the bot merely overhears (with the read-all-messages scope) never reaches the disk; and
 * a stored message job keeps only what its handler uses.
 */

let root: string;
let h: Harness;
let umask: number;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'todo-at-rest-'));
  // The most permissive umask there is: the modes must come from the bot, not from the environment.
  umask = process.umask(0o000);
  h = await startHarness({ env: { DATA_FILE: join(root, 'data', 'db.json') } });
});
afterAll(async () => {
  await h.stop();
  process.umask(umask);
  await rm(root, { recursive: true, force: true });
});

const dataDir = () => join(root, 'data');
const mode = async (path: string) => (await stat(path)).mode & 0o777;

async function onDisk(): Promise<string> {
  const names = await readdir(dataDir());
  return (await Promise.all(names.map((name) => readFile(join(dataDir(), name), 'utf8')))).join('\n');
}

describe('file modes', () => {
  it('creates the data folder 0700 and the log and lock 0600 under umask 000', async () => {
    expect(await mode(dataDir())).toBe(0o700);
    const names = await readdir(dataDir());
    expect(names).toEqual(expect.arrayContaining(['db.json.log', 'db.json.lock']));
    for (const name of names) expect(await mode(join(dataDir(), name)), name).toBe(0o600);
  });

  it('writes the snapshot (through its temporary file) and the fresh log 0600 too', async () => {
    await h.say('ou_admin', '/todo something private');
    await h.settled();
    // Stopping folds the log into a new snapshot: a temporary file renamed over db.json, and a new log.
    await h.restart();
    const names = await readdir(dataDir());
    expect(names).toEqual(expect.arrayContaining(['db.json', 'db.json.log', 'db.json.lock']));
    for (const name of names) expect(await mode(join(dataDir(), name)), name).toBe(0o600);
  });
});

/** The payload of the job `jobId` as the store's log first wrote it. */
async function storedPayload(jobId: string): Promise<Record<string, unknown>> {
  const lines = (await readFile(join(dataDir(), 'db.json.log'), 'utf8')).split('\n').filter((line) => line.includes(jobId));
  const stored = lines
    .flatMap((line) => {
      const parsed = JSON.parse(line);
      return Array.isArray(parsed[0]) ? parsed : [parsed];
    })
    .find(([collection, key, value]: [string, string, unknown]) => collection === 'jobs' && key === jobId && value !== null);
  expect(stored).toBeDefined();
  return stored[2].payload as Record<string, unknown>;
}

describe('what is stored of messages', () => {
  const colleague = { key: '@_user_1', openId: 'ou_alice', name: 'Alice Zhang' };
  const bot = { key: '@_user_2', openId: 'ou_bot', name: 'To-do Bot' };
  const push = (text: string, mentions: Array<{ key: string; openId: string; name: string }>, eventId: string) =>
    h.emu.push(`${h.app.url}/webhook/event`, messageEvent({ token: SECRETS.verificationToken, senderId: 'ou_member', text, mentions, eventId }), {
      encryptKey: SECRETS.encryptKey,
    });

  it('never writes chatter that mentions someone else, before or after the bot knows its own id', async () => {
    // The first one arrives while the bot does not yet know its own open_id (a fresh process).
    await h.restart();
    h.emu.reset();
    expect((await push('@_user_1 lunch at noon? chatter-marker-1', [colleague], 'ev_chatter_1')).status).toBe(200);
    await h.settled();
    expect((await push('@_user_1 see you there chatter-marker-2', [colleague], 'ev_chatter_2')).status).toBe(200);
    expect((await push('nobody mentioned chatter-marker-3', [], 'ev_chatter_3')).status).toBe(200);
    await h.settled();
    const disk = await onDisk();
    for (const marker of ['chatter-marker', 'ev_chatter_']) expect(disk).not.toContain(marker);
    // And it was not answered either: it was not for the bot.
    expect(h.emu.callsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(0);
  });

  it('still answers a bare mention of the bot that arrives before it knows its own id', async () => {
    await h.restart();
    h.emu.reset();
    expect((await push('@_user_2', [bot], 'ev_bare_mention')).status).toBe(200);
    await h.settled();
    expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(1);
  });

  /** A fresh bot that could not learn its own open_id at start: Feishu's bot info fails until the faults are cleared. */
  const restartNotKnowingItsId = () =>
    h.restart(async () => {
      h.emu.reset();
      h.emu.fault({ path: '/open-apis/bot/v3/info', status: 500, times: Infinity });
    });

  it('fails a mention it cannot yet tell is of the bot while Feishu cannot say, so that Feishu delivers it again', async () => {
    await restartNotKnowingItsId();
    try {
      expect((await push('@_user_2 /help', [bot], 'ev_unknown_id')).status).toBe(500);
      await h.settled();
      expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(0);
    } finally {
      h.emu.clearFaults();
    }
    // Feishu's next delivery, once its API answers again.
    expect((await push('@_user_2 /help', [bot], 'ev_unknown_id')).status).toBe(200);
    await h.settled();
    expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(1);
  });

  it('does not hold a mention longer than Feishu waits for an answer while Feishu is slow to say the bot’s id', async () => {
    // Unreachable at start, then answering, but slowly.
    await restartNotKnowingItsId();
    h.emu.clearFaults();
    const release = h.emu.hold({ path: '/open-apis/bot/v3/info', times: Infinity });
    try {
      // Answered (500: Feishu delivers it again) while the look-up still waits, not held until it ends.
      expect((await push('@_user_2 /help', [bot], 'ev_slow_id')).status).toBe(500);
    } finally {
      release();
    }
    await h.settled();
    expect((await push('@_user_2 /help', [bot], 'ev_slow_id')).status).toBe(200);
    await h.settled();
    expect(h.emu.successfulCallsTo('POST', '/open-apis/ephemeral/v1/send')).toHaveLength(1);
  });

  it('stores a command job with only the fields its handler uses: no mention names', async () => {
    expect((await push('@_user_2 /todos @_user_1 job-marker', [bot, colleague], 'ev_job_fields')).status).toBe(200);
    await h.settled();
    const payload = await storedPayload('message:ev_job_fields');
    expect(Object.keys(payload).sort()).toEqual(['chatId', 'chatType', 'eventId', 'mentions', 'messageId', 'senderId', 'sentAt', 'text']);
    expect(payload.mentions).toEqual([
      { key: '@_user_2', openId: 'ou_bot' },
      { key: '@_user_1', openId: 'ou_alice' },
    ]);
    expect(await onDisk()).not.toContain('Alice Zhang');
  });

  it('keeps the names of the people a /todo mentions in its text, which its form shows', async () => {
    expect((await push('@_user_2 /todo ask @_user_1 about it', [bot, colleague], 'ev_todo_names')).status).toBe(200);
    await h.settled();
    expect((await storedPayload('message:ev_todo_names')).mentions).toEqual([
      { key: '@_user_2', openId: 'ou_bot', name: 'To-do Bot' },
      { key: '@_user_1', openId: 'ou_alice', name: 'Alice Zhang' },
    ]);
  });
});
