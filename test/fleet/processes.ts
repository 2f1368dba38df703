import { join } from 'node:path';
import type { Emulator } from '../../emulator';
import { botEnv } from '../e2e/harness';
import { type BotProcess, ensureStopped, freePort, spawnBot, waitHealthy } from '../reliability/support';
import { postgresUrl } from '../support/postgres';

/**
 * A fleet of real bot processes (`node <bundle>/main.js`, built as `dist/main.js` is, as the reliability suite runs the bot) on one
 * PostgreSQL schema, each on a port of its own, for what an in-process fleet cannot show: a SIGKILL, and instances
 * that do not share one event loop (whose stalls would hold up all of them at once).
 */
export interface ProcessFleet {
  urls: string[];
  /** Each instance's current process. */
  bots: Array<BotProcess | undefined>;
  /** Every process started, those killed included, for their logs. */
  spawned: BotProcess[];
  /** Starts instance `i` (again, after a kill) on its port; resolves with the ms to `/healthz` 200. */
  start(i: number): Promise<number>;
  /** An instance picked at random among those running, as a load balancer does per push. */
  pick(): number;
  /** SIGTERM to every running instance; their exit codes. */
  stop(): Promise<Array<number | null>>;
  /** SIGKILL to whatever still runs (a test's clean-up). */
  kill(): Promise<void>;
}

/**
 * Leases short enough that a dead or frozen instance's jobs are taken over within seconds, yet long enough for a loaded
 * machine to renew them (every quarter); and a poll of a second, so the takeover comes within lease + 1 s of the freeze
 * or kill, not lease + 5 s (the default poll). For the tests that wait for a takeover.
 */
export const QUICK_TAKEOVER = { leaseSeconds: 5, pollSeconds: 1 };
export const QUICK_TAKEOVER_ENV = { JOB_LEASE_SECONDS: String(QUICK_TAKEOVER.leaseSeconds), JOB_POLL_SECONDS: String(QUICK_TAKEOVER.pollSeconds) };

export async function spawnFleet(p: { emu: Emulator; schema: string; dir: string; size?: number; env?: Record<string, string> }): Promise<ProcessFleet> {
  const size = p.size ?? 3;
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const bots: Array<BotProcess | undefined> = Array.from({ length: size }, () => undefined);
  const spawned: BotProcess[] = [];
  const running = () => bots.flatMap((bot, i) => (bot && bot.child.exitCode === null && bot.child.signalCode === null ? [i] : []));
  const start = (i: number) => {
    const env = botEnv({
      feishuDomain: p.emu.url,
      // Never written: with DATABASE_URL set the file store is not used.
      dataFile: join(p.dir, `instance-${i}.json`),
      port: ports[i],
      logLevel: 'warn',
      extra: { DATABASE_URL: postgresUrl, DATABASE_SCHEMA: p.schema, DATABASE_POOL_SIZE: '4', ...p.env },
    });
    const bot = spawnBot(env, { cwd: p.dir });
    bots[i] = bot;
    spawned.push(bot);
    // A limit, not a wait: on a 2-core machine busy with other suites, a start that takes 1 s alone took over 30 s.
    return waitHealthy(urls[i] as string, bot, 90_000);
  };
  // Started together, as a deploy starts them (the first migrates the schema, the others wait for its lock). One that
  // does not come up fails the start, and takes the others down with it: no test is left to stop them.
  const started = await Promise.allSettled(bots.map((_, i) => start(i)));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    for (const bot of spawned) await ensureStopped(bot);
    throw failed.reason;
  }
  return {
    urls,
    bots,
    spawned,
    start,
    pick() {
      const up = running();
      return up[Math.floor(Math.random() * up.length)] as number;
    },
    async stop() {
      const up = running();
      for (const i of up) bots[i]?.child.kill('SIGTERM');
      return Promise.all(up.map(async (i) => (await bots[i]?.exited)?.code ?? null));
    },
    async kill() {
      for (const bot of bots) await ensureStopped(bot);
    },
  };
}
