import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encryptPayload, signPush } from '../emulator';
import { botEnv as harnessBotEnv } from '../test/bot-env';

/** What every benchmark shares: the app's secrets, signed pushes, temp dirs, child processes, percentiles. */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every stored command a benchmark signs has a message id that starts so: the bot remembers a message by it. */
export const PUSH_MESSAGE_ID_PREFIX = 'om_bench_';

export const SECRETS = {
  // cli_ and 16 hex digits: the SDK's long-connection client refuses anything else.
  appId: 'cli_be0c4be0c4be0c4b',
  appSecret: 'bench-app-secret-3c1d',
  verificationToken: 'vt-bench-verification',
  encryptKey: 'ek-bench-encrypt-key',
};

/** The bot's environment, as `main.ts` reads it, with the benchmark's secrets. */
export function botEnv(p: { feishuDomain: string; dataFile: string; port?: number; extra?: Record<string, string> }): Record<string, string> {
  return harnessBotEnv({ ...p, secrets: SECRETS });
}

export interface SignedPush {
  body: string;
  headers: Record<string, string>;
}

/** A push exactly as Feishu sends it: encrypted body, signature over the raw bytes. */
export function signedPush(payload: object, timestampSec = Math.floor(Date.now() / 1000)): SignedPush {
  const body = JSON.stringify({ encrypt: encryptPayload(JSON.stringify(payload), SECRETS.encryptKey) });
  const timestamp = String(timestampSec);
  const nonce = randomBytes(8).toString('hex');
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': signPush({ timestamp, nonce, encryptKey: SECRETS.encryptKey, rawBody: body }),
    },
  };
}

export const tempDir = (prefix: string) => mkdtemp(join(tmpdir(), `todo-bench-${prefix}-`));

/** A port nothing listens on right now, for a child that must be told its port up front. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `sorted` ascending; nearest-rank percentile. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A TypeScript child with an IPC channel, run through tsx as the tests and the demo run the bot. */
export function forkTs(script: string, args: string[] = [], execArgv: string[] = []): ChildProcess {
  return fork(join(ROOT, script), args, { cwd: ROOT, execArgv: [...execArgv, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Scratch space inside the checkout (git-ignored), so that bundles find node_modules as dist/main.js does. */
export const SCRATCH = join(ROOT, 'bench', 'results.tmp');

/**
 * Bundles `entry` with `npm run build`'s own bundler (scripts/build.mjs) into a folder of SCRATCH named after it, with
 * the PostgreSQL migrations and the compact Feishu SDK beside it, as dist/main.js has them; returns the bundle's path
 * and how long bundling took (the copies aside).
 */
export async function bundle(entry: string, name: string): Promise<{ file: string; ms: number }> {
  const { bundle: build } = await import('../scripts/build.mjs');
  const extension = extname(name);
  const outdir = join(SCRATCH, basename(name, extension));
  const ms = await build({ entryPoints: { [basename(name, extension)]: join(ROOT, entry) }, outdir, extension, buildCommit: 'bench' });
  return { file: join(outdir, name), ms };
}

/** The next IPC message from `child` that `accept` takes (any, by default); rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess, timeoutMs = 30_000, accept: (message: unknown) => boolean = () => true): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`child ${child.pid} sent nothing in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown) => {
      if (accept(message)) done(undefined, message as T);
    };
    const onExit = (code: number | null) => done(new Error(`child ${child.pid} exited (${code}) before answering`));
    function done(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
