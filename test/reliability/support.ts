import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, inject } from 'vitest';
import { type EmulatedChat, type EmulatedMessage, type Emulator, type FaultRule, encryptPayload, signPush } from '../../emulator';
import { DataFileLock } from '../../src/store/embedded/file-lock';

/**
 * Shared pieces of the reliability suite: figures, bounded waits, reading the emulator's state the way a user
 * would see it, and the real bot as a child process (`node <bundle>/main.js`, built as `npm start`'s `dist/main.js` is).
 */

export const SEND = '/open-apis/ephemeral/v1/send';
export const DELETE = '/open-apis/ephemeral/v1/delete';
export const MESSAGES = '/open-apis/im/v1/messages';
export const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';

/**
 * A file of the bundle the run's global setup built from src/ (test/support/bot-bundle-setup.ts): `main.js` is the
 * bot as `npm start` runs it, `store.js` is `npm run store`. Node starts it in a fraction of the time tsx takes to
 * transpile the sources on every start.
 */
export const bundled = (file: 'main.js' | 'store.js'): string => join(inject('botBundle'), file);

/** Makes fresh temporary directories for a test file, all removed after its tests. */
export function tempDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

/** One line of the suite's results, easy to grep out of the test output. */
export function figure(line: string): void {
  console.log(`FIGURE: ${line}`);
}

/** Polls `check` until it is truthy; every wait is bounded. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<NonNullable<Awaited<T>>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<Awaited<T>>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs `fn` over `items` with at most `limit` running at once. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A group whose every member is a manager, so each of them may open a form under TODO_ALLOWED=admins. */
export function adminGroup(chatId: string, memberIds: string[]): EmulatedChat {
  return { chatId, chatType: 'group', ownerId: memberIds[0] ?? 'ou_owner', managerIds: [...memberIds], memberIds: [...memberIds] };
}

export const isFormCard = (m: EmulatedMessage) => m.kind === 'ephemeral' && m.card?.header?.title?.content === 'New to-do';

export function formIdOf(m: EmulatedMessage): string | undefined {
  return /"formId":"([^"]+)"/.exec(JSON.stringify(m.card))?.[1];
}

/** Every form card the emulator holds, grouped by the form it belongs to. */
export function formCardsByForm(emu: Emulator): Map<string, EmulatedMessage[]> {
  const byForm = new Map<string, EmulatedMessage[]>();
  for (const m of emu.messages.values()) {
    if (!isFormCard(m)) continue;
    const formId = formIdOf(m) ?? '?';
    const list = byForm.get(formId) ?? [];
    list.push(m);
    byForm.set(formId, list);
  }
  return byForm;
}

/** What `user` sees of their forms in `chatId`: form cards not deleted. */
export function visibleForms(emu: Emulator, chatId: string, user: string): EmulatedMessage[] {
  return [...emu.messages.values()].filter((m) => isFormCard(m) && m.chatId === chatId && m.visibleTo === user && !m.deleted);
}

/** Messages posted to a group (the bot's final to-do cards). */
export const groupCards = (emu: Emulator) => [...emu.messages.values()].filter((m) => m.kind === 'message');

/** Private notices (ephemeral cards that are not forms). */
export const notices = (emu: Emulator) => [...emu.messages.values()].filter((m) => m.kind === 'ephemeral' && !isFormCard(m));

/** The numbers a card mentions in `label <n> end`, e.g. "Soak item 17 end". */
export function itemNumbers(m: EmulatedMessage, label: string): number[] {
  const found = new Set<number>();
  for (const match of JSON.stringify(m.card ?? m.content).matchAll(new RegExp(`${label} (\\d+) end`, 'g'))) found.add(Number(match[1]));
  return [...found];
}

/**
 * The item numbers posted to groups so far, as a function to poll. Each message is read once: a posted card's
 * original content never changes, so many pollers cost a map lookup per message instead of a JSON dump.
 */
export function postedItems(emu: Emulator, label: string): () => Set<number> {
  const read = new Set<string>();
  const items = new Set<number>();
  return () => {
    for (const m of emu.messages.values()) {
      if (m.kind !== 'message' || read.has(m.messageId)) continue;
      read.add(m.messageId);
      for (const n of itemNumbers(m, label)) items.add(n);
    }
    return items;
  };
}

/** Posts Feishu holds now: arrived, not yet answered (a fault delays them). */
export const postsHeld = (emu: Emulator) => emu.arrivedCalls('POST', MESSAGES) - emu.callsTo('POST', MESSAGES).length;

/** `global.gc`, exposed on demand (vitest's workers do not start with --expose-gc). */
export function gcFunction(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Memory once the garbage is gone. One `gc()` is not enough: V8 frees dead ArrayBuffers' memory on a background
 * thread after the collection, so on a busy machine `arrayBuffers` read straight after `gc()` still counted 40 MiB
 * of dead fragments that three collections a few milliseconds apart had freed.
 */
export async function memoryAfterGc(gc: () => void): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(10);
  }
  return process.memoryUsage();
}

export async function heapAfterGc(gc: () => void): Promise<number> {
  return (await memoryAfterGc(gc)).heapUsed;
}

/**
 * A port free on loopback right now, for a child that must come back on the same port after a crash. It is
 * picked below the kernel's ephemeral range (32768 and up by default), so that while the child is down the
 * port cannot be handed out as the local port of some outgoing connection, which would make the restart fail.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
  throw new Error('no free port found between 20000 and 32000');
}

export interface BotProcess {
  child: ChildProcess;
  /** stdout and stderr lines, in arrival order (bounded). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const MAX_KEPT_LINES = 20_000;

/**
 * Starts the real bot the way production does (`npm start`: `node --enable-source-maps dist/main.js`), from the
 * test bundle built the same way. The working
 * directory is a temporary one so that a developer's `.env` in the repo cannot leak into the test.
 */
export function spawnBot(env: Record<string, string>, opts: { cwd: string; wrapper?: string[] | undefined }): BotProcess {
  const baseEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? opts.cwd };
  if (process.env.TMPDIR) baseEnv.TMPDIR = process.env.TMPDIR;
  const command = [process.execPath, '--enable-source-maps', bundled('main.js')];
  // A wrapper runs the bot under another program (`unshare ...`, a shell that never reaps): [program, ...its args].
  const [program, ...args] = [...(opts.wrapper ?? []), ...command] as [string, ...string[]];
  const child = spawn(program, args, { cwd: opts.cwd, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (lines.length < MAX_KEPT_LINES) lines.push(line);
    });
    stream?.on('end', () => {
      if (rest !== '' && lines.length < MAX_KEPT_LINES) lines.push(rest);
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  // 'close' rather than 'exit': by then the pid is reaped and both pipes are drained.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, lines, exited };
}

/** Resolves with the ms until `GET /healthz` answered 200; throws if the process exits first or time runs out. */
export async function waitHealthy(url: string, bot: BotProcess, timeoutMs = 20_000): Promise<number> {
  const started = performance.now();
  let exited = false;
  void bot.exited.then(() => {
    exited = true;
  });
  await waitFor(
    async () => {
      if (exited) throw new Error(`the bot exited during start-up:\n${bot.lines.slice(-20).join('\n')}`);
      try {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
        await response.arrayBuffer();
        return response.status === 200;
      } catch {
        return false;
      }
    },
    'the bot to answer /healthz with 200',
    timeoutMs,
    25,
  );
  return performance.now() - started;
}

/** Whether nobody holds `DATA_FILE`'s lock now: this process can take it (and gives it back at once). */
export async function dataFileLockIsFree(dataFile: string): Promise<boolean> {
  const acquired = await DataFileLock.acquire(`${dataFile}.lock`);
  if (!(acquired instanceof DataFileLock)) return false;
  await acquired.release();
  return true;
}

/** Stops a child for good at the end of a test, whatever state it is in. */
export async function ensureStopped(bot: BotProcess | undefined): Promise<void> {
  if (!bot || bot.child.exitCode !== null || bot.child.signalCode !== null) return;
  bot.child.kill('SIGKILL');
  await bot.exited;
}

/** Feishu waits this long for an answer before it counts a push as failed. */
export const FEISHU_PUSH_TIMEOUT_MS = 3_000;

/**
 * One push as Feishu sends it (encrypted, signed), with Feishu's 3 s patience. Resolves to the answer, or to
 * `undefined` when there was none: connection refused or reset (the bot is down or died), or no answer in time.
 */
export async function feishuPush(target: string, payload: object, encryptKey: string): Promise<{ status: number; body: any } | undefined> {
  const rawBody = JSON.stringify({ encrypt: encryptPayload(JSON.stringify(payload), encryptKey) });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(8).toString('hex');
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-lark-request-timestamp': timestamp,
        'x-lark-request-nonce': nonce,
        'x-lark-signature': signPush({ timestamp, nonce, encryptKey, rawBody }),
      },
      body: rawBody,
      signal: AbortSignal.timeout(FEISHU_PUSH_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  } catch {
    return undefined;
  }
}

/**
 * The fault soak's Feishu: about `rate` of all calls (the token endpoint's included) fail, in equal shares of 500,
 * 429 with a reset header, 230020, an answer after `lateMs` (Feishu did the work, the bot gave up waiting) and a
 * dropped connection. Rules are tried in order, so each one's probability is conditional on the ones before.
 */
export function armSoakFaults(emu: Emulator, rate: number, lateMs: number): void {
  const kinds: FaultRule[] = [
    { status: 500 },
    { status: 429, code: 99991400, msg: 'request trigger frequency limit', headers: { 'x-ogw-ratelimit-reset': '1' } },
    { code: 230020, msg: 'This operation triggers the frequency limit.' },
    // Alone, delayMs delays and then handles the call normally.
    { delayMs: lateMs },
    { drop: true },
  ];
  let share = 0;
  for (const rule of kinds) {
    const p = rate / kinds.length;
    emu.fault({ ...rule, probability: p / (1 - share), times: Number.POSITIVE_INFINITY });
    share += p;
  }
}

/** What `armSoakFaults` did, read back from the emulator's record (each call says which fault hit it). */
export function soakFaultsSeen(emu: Emulator): { calls: number; faulted: number; byKind: string } {
  const injected = emu.calls.filter((c) => c.fault !== undefined);
  const byKind = {
    '500': injected.filter((c) => c.fault === 'answer' && c.status === 500).length,
    '429': injected.filter((c) => c.fault === 'answer' && c.status === 429).length,
    '230020': injected.filter((c) => c.fault === 'answer' && c.response?.code === 230020).length,
    'late answer': injected.filter((c) => c.fault === 'delay').length,
    drop: injected.filter((c) => c.fault === 'drop').length,
  };
  return {
    calls: emu.calls.length,
    faulted: injected.length,
    byKind: Object.entries(byKind)
      .map(([k, n]) => `${n}×${k}`)
      .join(', '),
  };
}
