import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../emulator';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { FilePersistence } from '../../src/store/embedded/snapshot-log';
import type { PostgresStore } from '../../src/store/postgres/postgres-store';
import type { ExportedRecord, Job, Store } from '../../src/store/store';
import { SECRETS, botEnv } from '../e2e/harness';
import { type ProcessFleet, QUICK_TAKEOVER, QUICK_TAKEOVER_ENV, spawnFleet } from '../fleet/processes';
import { type BotProcess, MESSAGES, dataFileLockIsFree, ensureStopped, freePort, postsHeld, spawnBot, waitFor, waitHealthy } from '../reliability/support';
import { dropSchema, openPostgresStore, uniqueSchema } from '../support/postgres';

/**
 * The two ways the bot is deployed, as real processes (`node <bundle>/main.js`, built as `dist/main.js` is) a test can SIGKILL, behind one face, so
 * that the crash scenario is written once and run on both: one process on the file store, started again on the same
 * `DATA_FILE` at once after each kill (nothing else can serve meanwhile); and three processes on one PostgreSQL
 * schema, the killed one started again once the others have taken its jobs over. Each deployment checks what only it
 * can: the data file's lock, or the dead instance's leases.
 */

export interface ProcessDeployment {
  /** How the figures name it. */
  name: string;
  emu: Emulator;
  instances: number;
  /** Where a load balancer sends the next push: an instance that is up (the one instance, up or not). */
  pick(): string;
  /**
   * SIGKILLs the instance holding the most posting jobs (on three, at the first moment every post under way is on the
   * wire, so that the instance killed has posts in flight) and brings the deployment back as it comes back after a
   * crash, checking what happens meanwhile.
   */
  killOne(): Promise<void>;
  /** SIGTERM to every instance; their exit codes. */
  stop(): Promise<Array<number | null>>;
  /** Every line of every process started, the killed ones' included. */
  lines(): string[];
  /**
   * Once it stopped after `kills` kills: checks what only this deployment can check then (the fleet checked its leases
   * at each kill), and says what the kills did, for the figure.
   */
  verify(kills: number): Promise<string>;
  /** Everything stored, read from outside once every instance stopped. */
  stored(): Promise<ExportedRecord[]>;
  /** SIGKILL to whatever still runs, and everything the deployment made removed (a test's clean-up). */
  dispose(): Promise<void>;
}

/** `env`: settings every process gets besides the deployment's own. */
export type ProcessDeploy = (options: { emulator: EmulatorOptions; dir: string; env?: Record<string, string> }) => Promise<ProcessDeployment>;

const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

async function everyRecord(store: Pick<Store, 'exportRecords'>): Promise<ExportedRecord[]> {
  const records: ExportedRecord[] = [];
  for await (const record of store.exportRecords()) records.push(record);
  return records;
}

export const oneProcess: ProcessDeploy = async ({ emulator, dir, env: extra }) => {
  const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, ...emulator });
  const dataFile = join(dir, 'db.json');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = botEnv({ feishuDomain: emu.url, dataFile, port, logLevel: 'warn', extra });
  const spawned: BotProcess[] = [];
  const current = () => spawned[spawned.length - 1] as BotProcess;
  const start = () => {
    const bot = spawnBot(env, { cwd: dir });
    spawned.push(bot);
    return waitHealthy(url, bot);
  };
  const dispose = async () => {
    await ensureStopped(spawned[spawned.length - 1]);
    await emu.close();
  };
  await start().catch(async (error: unknown) => {
    await dispose();
    throw error;
  });
  const restartMs: number[] = [];
  let staleLockNotes = 0;
  return {
    name: 'one process on the file store',
    emu,
    instances: 1,
    pick: () => url,
    async killOne() {
      const victim = current();
      victim.child.kill('SIGKILL');
      await victim.exited;
      // The dead bot's note is still in the lock file; only the kernel's lock counts, and it died with the bot.
      if ((await readFile(`${dataFile}.lock`, 'utf8').catch(() => '')).includes(`"pid":${victim.child.pid}`)) staleLockNotes++;
      restartMs.push(await start());
    },
    async stop() {
      const last = current();
      last.child.kill('SIGTERM');
      return [(await last.exited).code];
    },
    lines: () => spawned.flatMap((bot) => bot.lines),
    async verify(kills) {
      expect(await dataFileLockIsFree(dataFile)).toBe(true);
      expect(staleLockNotes).toBe(kills);
      return `the dead bot's lock note left each time; restart to /healthz 200 avg ${Math.round(average(restartMs))} ms`;
    },
    async stored() {
      const store = new EmbeddedStore(new FilePersistence(dataFile));
      await store.open();
      try {
        return await everyRecord(store);
      } finally {
        await store.close();
      }
    },
    dispose,
  };
};

export const threeProcesses: ProcessDeploy = async ({ emulator, dir, env }) => {
  const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, ...emulator });
  const schema = uniqueSchema('crash');
  let fleet: ProcessFleet | undefined;
  let store: PostgresStore | undefined;
  const dispose = async () => {
    await fleet?.kill();
    await store?.close();
    await emu.close();
    await dropSchema(schema);
  };
  try {
    fleet = await spawnFleet({ emu, schema, dir, env: { ...env, ...QUICK_TAKEOVER_ENV } });
    store = await openPostgresStore(schema, { poolSize: 2 });
  } catch (error) {
    await dispose();
    throw error;
  }
  const processes = fleet;
  const fleetStore = store;
  const pidOf = (owner: string | undefined) => Number(owner?.split(':')[1]);
  /** The posting jobs stored now, with their leases (an export leaves leases out). */
  const postingJobs = async () => {
    const ids = (await everyRecord(fleetStore)).flatMap((record) =>
      record.collection === 'jobs' && (record.value as Job).kind === 'todo.post' ? [record.key] : [],
    );
    return (await Promise.all(ids.map((id) => fleetStore.job(id)))).filter((job) => job !== undefined);
  };
  const kills: Array<{ held: number; postsAnswered: number; resumedAfterMs: number[] }> = [];
  const restartMs: number[] = [];
  return {
    name: '3 processes on PostgreSQL',
    emu,
    instances: 3,
    pick: () => processes.urls[processes.pick()] as string,
    async killOne() {
      // The moment: every posting job under way has its post on the wire (none waits for its group's post permit, none
      // is between steps), so each post of the instance killed is made by Feishu, and made again, with its uuid, by
      // the instance that resumes the job.
      const jobs = await waitFor(
        async () => {
          const posting = (await postingJobs()).filter((job) => job.lease !== undefined && !('post' in job.steps));
          return posting.length > 0 && posting.length <= postsHeld(emu) ? posting : undefined;
        },
        'every post under way to be on the wire',
        20_000,
        20,
      );
      const held = (i: number) => jobs.filter((job) => pidOf(job.lease?.owner) === processes.bots[i]?.child.pid).map((job) => job.id);
      const victim = [0, 1, 2].sort((a, b) => held(b).length - held(a).length)[0] as number;
      const victimJobs = held(victim);
      expect(victimJobs.length).toBeGreaterThan(0);
      const bot = processes.bots[victim] as BotProcess;
      const postsAnswered = emu.successfulCallsTo('POST', MESSAGES).length;
      const killedAt = performance.now();
      bot.child.kill('SIGKILL');
      await bot.exited;

      // Another instance takes each dead lease over once it runs out (renewed every quarter of it; looked for at each poll).
      const resumedAfterMs = new Map<string, number>();
      await waitFor(
        async () => {
          for (const id of victimJobs.filter((id) => !resumedAfterMs.has(id))) {
            const job = await fleetStore.job(id);
            if (job === undefined || (job.lease !== undefined && pidOf(job.lease.owner) !== bot.child.pid))
              resumedAfterMs.set(id, performance.now() - killedAt);
          }
          return resumedAfterMs.size === victimJobs.length;
        },
        "the dead instance's jobs to be resumed",
        40_000,
        100,
      );
      kills.push({ held: victimJobs.length, postsAnswered, resumedAfterMs: [...resumedAfterMs.values()] });
      // Then it comes back and joins the fleet.
      restartMs.push(await processes.start(victim));
    },
    stop: () => processes.stop(),
    lines: () => processes.spawned.flatMap((bot) => bot.lines),
    async verify() {
      const each = kills.map(
        ({ held, postsAnswered, resumedAfterMs }) =>
          `the instance holding ${held} posting job${held === 1 ? '' : 's'} killed with ${postsAnswered} posts answered, its jobs resumed by another instance ` +
          `${resumedAfterMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s after the kill`,
      );
      return `${each.join('; ')} (bound: lease ${QUICK_TAKEOVER.leaseSeconds} s + poll ${QUICK_TAKEOVER.pollSeconds} s); restart to /healthz 200 avg ${Math.round(average(restartMs))} ms`;
    },
    stored: () => everyRecord(fleetStore),
    dispose,
  };
};
