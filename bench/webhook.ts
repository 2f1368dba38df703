import { type ChildProcess, fork } from 'node:child_process';
import autocannon from 'autocannon';
import { type Emulator, messageEvent, startEmulator } from '../emulator';
import { PUSH_MESSAGE_ID_PREFIX, ROOT, SECRETS, type SignedPush, bundle, median, nextMessage, percentile, signedPush, sleep } from './fixtures';
import { paced } from './paced';
import { type ServerKind, type ServerStats, callsFeishu } from './server-kinds';
import type { Row } from './table';

/**
 * Figure 1: signed, encrypted `im.message.receive_v1` pushes over loopback HTTP. Each server runs alone in a child
 * process, bundled by esbuild and run by node as `npm start` runs the bot, and autocannon drives it from this one
 * (2 cores: one each). The servers take turns, round after
 * round, so a burst of background load on a shared machine hurts them alike; each figure is the median round.
 * Every push carries its own event id and is generated before the run: encryption and signing are not measured.
 */

/** Fixed concurrency (autocannon's default): pushes Feishu has in flight at once. */
export const CONNECTIONS = 10;
export const WARMUP_REQUESTS = 2_000;
export const ROUNDS = 3;
/** Each throughput run lasts about this long. */
export const RUN_SECONDS = 2;
/** A cap on one bot run, which bounds the pushes generated up front. */
export const MAX_REQUESTS = 20_000;
export const FIXED_RATE = 200;
export const FIXED_RATE_SECONDS = 4;
/**
 * The rate at which the chatter path's CPU per push is also compared: well inside what every server here sustains
 * (the slowest, the SDK, answers 3,000-3,700 chatter pushes a second flat out on this machine) and what the paced
 * sender, one Node process, sends on time (at 3,000 a second it fell behind on a busy machine, its p99 hundreds of
 * ms), so each server serves the same pushes at the same pace, not as many as it can.
 */
export const SAME_RATE = 2_000;
/** The baselines keep no event ids, so they may cycle through one pool; the bot never sees an id twice. */
const BASELINE_POOL = 5_000;

export interface LoadResult {
  seconds: number;
  latenciesMs: number[];
  failures: number;
  /** Requests setupRequest built: sent, plus at most one per connection built and never sent. */
  built: number;
}

export type Run = LoadResult & {
  cpuMs: number;
  /** The part of `cpuMs` in user mode. */
  userCpuMs: number;
  snapshots: number;
  /** A fleet's run: each instance's CPU, in the order pushes go round them. */
  cpuMsByInstance?: number[];
};

export interface Figures {
  /** The median round's; `perRound` keeps every round, in the order the servers took turns. */
  requestsPerSecond: number;
  perRound: number[];
  /** CPU per push of each round, in the same order. */
  perRoundCpuUsPerPush: number[];
  p50Ms: number;
  p99Ms: number;
  cpuUsPerPush: number;
  /** The part of it in user mode: the server's own code, where the kernel's part is the sockets' and the wake-ups'. */
  userUsPerPush: number;
  failures: number;
  /** Snapshots the bot's store wrote during these runs: each stalls every answer while it is serialised. */
  snapshots: number;
}

/**
 * The stored command path: `@Bot /help` from a member who has sent nothing yet (so no person's budget is spent), each
 * with its own event id: verified, decrypted, its sender's budget checked (in the database, on PostgreSQL), then its
 * event id and its job committed together before the answer. The bot servers hold the jobs (none runs), so the figure
 * is the receive path: a flood of commands in one chat could not be served faster anyway, Feishu allowing 50 private
 * cards a second. (Chatter, or a mention of a colleague, would not do: the bot drops it unstored.)
 */
export function pushes(count: number, tag: string): SignedPush[] {
  const nowSec = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) =>
    signedPush(
      messageEvent({
        token: SECRETS.verificationToken,
        senderId: `ou_${tag}_${i}`,
        chatId: 'oc_bench',
        text: '@_user_1 /help',
        mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
        eventId: `ev_bench_${tag}_${i}`,
        messageId: `${PUSH_MESSAGE_ID_PREFIX}${tag}_${i}`,
      }),
      nowSec,
    ),
  );
}

/**
 * The chatter path: a group message that is not for the bot (no command, no mention), as most pushes are for a bot
 * with the read-all-messages scope. Verified, decrypted, parsed, told apart from a command and answered, never
 * stored, so a pool of them may be cycled. The baselines get these too.
 */
export function chatter(count: number, tag: string): SignedPush[] {
  const nowSec = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) =>
    signedPush(
      messageEvent({
        token: SECRETS.verificationToken,
        senderId: `ou_${tag}_${i % 50}`,
        chatId: 'oc_bench',
        text: 'lunch at noon? the usual place',
        eventId: `ev_chat_${tag}_${i}`,
      }),
      nowSec,
    ),
  );
}

/**
 * Pushes handed out in order. The baselines keep no event ids and cycle through one pool. A bot never sees an id
 * twice: should its pool run dry (a run sent more than planned), more are signed on the spot and counted, since
 * that signing then costs the load generator time during the run.
 */
export class PushSource {
  private next = 0;
  signedLate = 0;
  constructor(
    private readonly pool: SignedPush[],
    private readonly cycle: boolean,
    private readonly tag = 'late',
    /** Makes more of the pool's kind of push. */
    private readonly make: (count: number, tag: string) => SignedPush[] = pushes,
  ) {}
  take(): SignedPush {
    if (this.next >= this.pool.length) {
      if (this.cycle) this.next = 0;
      else {
        this.signedLate++;
        this.pool.push(...this.make(1, `${this.tag}-${this.next}`));
      }
    }
    return this.pool[this.next++] as SignedPush;
  }
  get taken(): number {
    return this.next;
  }
}

/** autocannon at fixed concurrency, for a fixed count or time: the throughput figures. */
export async function load(url: string, bodies: PushSource, opts: { amount?: number | undefined; duration?: number | undefined }): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const takenBefore = bodies.taken;
  const path = new URL(url).pathname;
  const started = performance.now();
  let lastResponse = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        // autocannon notices the end of an `amount` run only at its next sample tick (1 s by default).
        sampleInt: 100,
        ...(opts.amount !== undefined && { amount: opts.amount }),
        ...(opts.duration !== undefined && { duration: opts.duration }),
        requests: [
          {
            method: 'POST',
            path,
            setupRequest: (request) => {
              const push = bodies.take();
              return { ...request, method: 'POST', path, headers: push.headers, body: push.body };
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    // Our own record of every response, in fractional ms: autocannon's histogram keeps whole ms.
    instance.on('response', (_client, status, _bytes, ms) => {
      lastResponse = performance.now();
      if (status >= 200 && status < 300) latenciesMs.push(ms);
      else failures++;
    });
  });
  return {
    // Up to the last answer, not to autocannon's end, which waits for that tick.
    seconds: (lastResponse - started) / 1000,
    latenciesMs,
    failures: failures + result.errors + result.timeouts,
    built: bodies.taken - takenBefore,
  };
}

export class Target {
  private constructor(
    readonly kind: ServerKind,
    private readonly child: ChildProcess,
    readonly url: string,
    /** The Feishu a bot calls, here in the benchmark's process: its work is not the bot's CPU. */
    private readonly feishu: Emulator | undefined,
  ) {}

  /** `args` follow the kind (a PostgreSQL bot's database URL and schema); a bot's Feishu comes first. */
  static async start(kind: ServerKind, file: string, args: string[] = []): Promise<Target> {
    const feishu = callsFeishu(kind) ? await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret }) : undefined;
    const argv = [kind, ...(feishu ? [feishu.url] : []), ...args];
    const child = fork(file, argv, { cwd: ROOT, execArgv: ['--enable-source-maps'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      // A bot bundle starting on a loaded 2-core machine may take longer than an answer to "stats" should.
      const { url } = await nextMessage<{ url: string }>(child, 120_000);
      return new Target(kind, child, url, feishu);
    } catch (error) {
      child.kill();
      await feishu?.close();
      throw error;
    }
  }

  async stats(): Promise<ServerStats> {
    const answer = nextMessage<ServerStats>(this.child, 30_000, (message) => typeof message === 'object' && message !== null && 'cpuMs' in message);
    this.child.send('stats');
    return answer;
  }

  /** Has the bot write a snapshot of its store; resolves with how long it took, once it is durable. */
  async snapshot(): Promise<number> {
    const answer = nextMessage<{ snapshotMs: number }>(
      this.child,
      60_000,
      (message) => typeof message === 'object' && message !== null && 'snapshotMs' in message,
    );
    this.child.send('snapshot');
    return (await answer).snapshotMs;
  }

  /**
   * One measured run, flat out (autocannon, for a count or a time) or paced at `rate` pushes a second: the load, the
   * CPU the server spent on it, and the snapshots its store wrote meanwhile.
   */
  async run(bodies: PushSource, opts: Parameters<typeof load>[2] | { rate: number }): Promise<Run> {
    const before = await this.stats();
    const result = 'rate' in opts ? await this.paced(bodies, opts.rate) : await load(this.url, bodies, opts);
    const after = await this.stats();
    return { ...result, cpuMs: after.cpuMs - before.cpuMs, userCpuMs: after.userCpuMs - before.userCpuMs, snapshots: after.compactions - before.compactions };
  }

  private async paced(bodies: PushSource, rate: number): Promise<LoadResult> {
    const takenBefore = bodies.taken;
    const result = await paced(this.url, rate, FIXED_RATE_SECONDS, () => bodies.take());
    return { ...result, built: bodies.taken - takenBefore };
  }

  async stop(): Promise<ServerStats> {
    const answer = nextMessage<ServerStats>(this.child, 60_000);
    this.child.send('stop');
    const stats = await answer;
    if (this.child.exitCode === null) await new Promise((resolve) => this.child.once('exit', resolve));
    await this.closeFeishu();
    return stats;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
    void this.closeFeishu();
  }

  private feishuClosed: Promise<void> | undefined;

  /** Once, whether the target was stopped, killed, or both (`measureAll` kills every target it started). */
  private closeFeishu(): Promise<void> {
    this.feishuClosed ??= this.feishu?.close() ?? Promise.resolve();
    return this.feishuClosed;
  }
}

export function summarise(runs: Run[]): Figures {
  const latencies = runs.flatMap((run) => run.latenciesMs).sort((a, b) => a - b);
  const answered = runs.reduce((sum, run) => sum + run.latenciesMs.length, 0);
  return {
    requestsPerSecond: median(runs.map((run) => run.latenciesMs.length / run.seconds)),
    perRound: runs.map((run) => run.latenciesMs.length / run.seconds),
    perRoundCpuUsPerPush: runs.map((run) => (1000 * run.cpuMs) / run.latenciesMs.length),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuUsPerPush: (1000 * runs.reduce((sum, run) => sum + run.cpuMs, 0)) / answered,
    userUsPerPush: (1000 * runs.reduce((sum, run) => sum + run.userCpuMs, 0)) / answered,
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
    snapshots: runs.reduce((sum, run) => sum + run.snapshots, 0),
  };
}

/**
 * Throughput of `a` against `b`: the median of the rounds' ratios. Each round runs the servers back to back, so a
 * burst of someone else's load falls on both sides of a round's ratio; medians taken apart could pair a calm round of
 * one with a noisy round of the other (seen: bare Koa's median round at 4,954 req/s, half its calm speed).
 */
export function throughputRatio(a: Figures, b: Figures): number {
  return median(a.perRound.map((value, round) => value / (b.perRound[round] as number)));
}

/** Each round's CPU per push of `a` against `b`'s in the same round, for a note: a noisy round shows. */
function roundRatios(a: Figures, b: Figures): string {
  return a.perRoundCpuUsPerPush.map((value, round) => (value / (b.perRoundCpuUsPerPush[round] as number)).toFixed(2)).join(', ');
}

/** The round with the median p99, with the failures and snapshots of all rounds. */
export function medianRound(runs: Run[]): Figures {
  const rounds = runs.map((run) => summarise([run])).sort((a, b) => a.p99Ms - b.p99Ms);
  const all = summarise(runs);
  return { ...(rounds[Math.floor(rounds.length / 2)] as Figures), failures: all.failures, snapshots: all.snapshots };
}

/** A snapshot starts this long into a paced run, so that the run sees before, during and after. */
const SNAPSHOT_AFTER_MS = 1_000;

interface DuringSnapshot {
  during: Figures;
  without: Figures;
  snapshotMs: number[];
}

/**
 * The 200 req/s figure on a bot holding 100,000 to-dos, in rounds that take turns: one run as is, one while a
 * snapshot of the store is written (the store folds its log into a snapshot once the log is as large as the data).
 */
async function measureDuringSnapshot(file: string, log: (line: string) => void): Promise<DuringSnapshot> {
  const target = await Target.start('bot-100k', file);
  try {
    await load(target.url, new PushSource(pushes(WARMUP_REQUESTS + CONNECTIONS, 'big-warm'), false, 'big-warm'), { amount: WARMUP_REQUESTS });
    const source = new PushSource(pushes(2 * ROUNDS * FIXED_RATE * FIXED_RATE_SECONDS, 'big-run'), false, 'big-run');
    const during: Run[] = [];
    const without: Run[] = [];
    const snapshotMs: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      without.push(await target.run(source, { rate: FIXED_RATE }));
      const snapshot = sleep(SNAPSHOT_AFTER_MS).then(() => target.snapshot());
      during.push(await target.run(source, { rate: FIXED_RATE }));
      snapshotMs.push(await snapshot);
      log(
        `webhook at ${FIXED_RATE} req/s on 100k to-dos, round ${round}: p99 ${summarise([without.at(-1) as Run]).p99Ms.toFixed(2)} ms, ` +
          `${summarise([during.at(-1) as Run]).p99Ms.toFixed(2)} ms while a ${(snapshotMs.at(-1) as number).toFixed(0)} ms snapshot was written`,
      );
    }
    return { during: medianRound(during), without: medianRound(without), snapshotMs };
  } finally {
    // Stopped rather than killed, so that it removes its data folder (38 MB of to-dos).
    await target.stop().catch(() => target.kill());
  }
}

const isBot = (kind: ServerKind) => kind === 'bot' || kind === 'bot-fsync';

interface Measured {
  throughput: Figures;
  fixedRate?: Figures | undefined;
  store: ServerStats;
  /** Pushes built for this server: every one must have become a new event id in the bot's store. */
  pushesBuilt: number;
  /** Pushes signed during a run because the pool ran dry (should be 0). */
  signedLate: number;
}

/** Runs every server through the same rounds; returns each one's figures. */
async function measureAll(file: string, kinds: ServerKind[], withFixedRate: ServerKind[], log: (line: string) => void): Promise<Map<ServerKind, Measured>> {
  const targets: Target[] = [];
  // One at a time: seven starting at once on 2 cores starve each other.
  try {
    for (const kind of kinds) targets.push(await Target.start(kind, file));
    const baselinePool = chatter(BASELINE_POOL, 'baseline');
    const sources = new Map<ServerKind, PushSource>();
    // The baselines run for a fixed time; a bot for a fixed count sized from its warm-up, so that its pool of fresh
    // event ids can be generated beforehand.
    const runFor = new Map<ServerKind, { amount?: number; duration?: number }>();
    const built = new Map<ServerKind, number>(kinds.map((kind) => [kind, 0]));
    for (const target of targets) {
      const { kind } = target;
      if (!isBot(kind)) {
        sources.set(kind, new PushSource(baselinePool, true));
        await load(target.url, sources.get(kind) as PushSource, { duration: 1 });
        runFor.set(kind, { duration: RUN_SECONDS });
        continue;
      }
      const warm = await load(target.url, new PushSource(pushes(WARMUP_REQUESTS + CONNECTIONS, `${kind}-warm`), false, `${kind}-warm`), {
        amount: WARMUP_REQUESTS,
      });
      built.set(kind, warm.built);
      const amount = Math.round(Math.min(MAX_REQUESTS, Math.max(WARMUP_REQUESTS / 2, (warm.latenciesMs.length / warm.seconds) * RUN_SECONDS)));
      runFor.set(kind, { amount });
      // Enough fresh ids for every run: setupRequest may build one unsent request per connection per run.
      const needed = ROUNDS * (amount + CONNECTIONS + (withFixedRate.includes(kind) ? FIXED_RATE * FIXED_RATE_SECONDS : 0));
      sources.set(kind, new PushSource(pushes(needed, `${kind}-run`), false, `${kind}-run`));
    }

    const runs = new Map<ServerKind, Run[]>(kinds.map((kind) => [kind, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const target of targets) {
        const run = await target.run(sources.get(target.kind) as PushSource, runFor.get(target.kind) ?? {});
        runs.get(target.kind)?.push(run);
        built.set(target.kind, (built.get(target.kind) ?? 0) + run.built);
        line.push(`${target.kind} ${(run.latenciesMs.length / run.seconds).toFixed(0)}`);
      }
      log(`webhook round ${round}: ${line.join(', ')} req/s`);
    }
    // Latency at a low steady rate is at the mercy of the machine (a descheduled vCPU stalls bare Koa as much as
    // the bot), so these runs take turns too, and each server's figure is its median round.
    const fixedRuns = new Map<ServerKind, Run[]>(withFixedRate.map((kind) => [kind, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const target of targets) {
        if (!withFixedRate.includes(target.kind)) continue;
        const run = await target.run(sources.get(target.kind) as PushSource, { rate: FIXED_RATE });
        built.set(target.kind, (built.get(target.kind) ?? 0) + run.built);
        fixedRuns.get(target.kind)?.push(run);
        line.push(`${target.kind} ${summarise([run]).p99Ms.toFixed(2)}`);
      }
      log(`webhook at ${FIXED_RATE} req/s, round ${round}: p99 ${line.join(', ')} ms`);
    }
    const fixedRates = new Map<ServerKind, Figures>([...fixedRuns].map(([kind, kindRuns]) => [kind, medianRound(kindRuns)]));

    const measured = new Map<ServerKind, Measured>();
    for (const target of targets) {
      const throughput = summarise(runs.get(target.kind) ?? []);
      const fixedRate = fixedRates.get(target.kind);
      const signedLate = sources.get(target.kind)?.signedLate ?? 0;
      measured.set(target.kind, { throughput, fixedRate, store: await target.stop(), pushesBuilt: built.get(target.kind) ?? 0, signedLate });
      log(
        `webhook ${target.kind}: ${throughput.requestsPerSecond.toFixed(0)} req/s, p50 ${throughput.p50Ms.toFixed(2)} ms, ` +
          `p99 ${throughput.p99Ms.toFixed(2)} ms, ${throughput.cpuUsPerPush.toFixed(0)} µs CPU per push` +
          (fixedRate
            ? `; at ${FIXED_RATE} req/s p50 ${fixedRate.p50Ms.toFixed(2)} ms, p99 ${fixedRate.p99Ms.toFixed(2)} ms (${fixedRate.snapshots} snapshots)`
            : ''),
      );
    }
    return measured;
  } finally {
    for (const target of targets) target.kill();
  }
}

/**
 * CPU per chatter push with every server answering the same pushes at SAME_RATE, servers taking turns over the rounds
 * after a run at that pace each to warm up. Flat out, a faster server's wake-ups each carry more pushes, and a slower
 * one pays more often for waking the load generator (the socket write that answers): CPU per push then also measures
 * the rate each server reached.
 */
async function cpuAtSameRate(file: string, kinds: ServerKind[], log: (line: string) => void): Promise<Map<ServerKind, Figures>> {
  const targets: Target[] = [];
  try {
    for (const kind of kinds) targets.push(await Target.start(kind, file));
    const source = new PushSource(chatter(BASELINE_POOL, 'same-rate'), true);
    for (const target of targets) await target.run(source, { rate: SAME_RATE });
    const runs = new Map<ServerKind, Run[]>(kinds.map((kind) => [kind, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const target of targets) {
        const run = await target.run(source, { rate: SAME_RATE });
        runs.get(target.kind)?.push(run);
        line.push(`${target.kind} ${summarise([run]).cpuUsPerPush.toFixed(1)}`);
      }
      log(`chatter at ${SAME_RATE} req/s, round ${round}: CPU per push ${line.join(', ')} µs`);
    }
    return new Map([...runs].map(([kind, kindRuns]) => [kind, summarise(kindRuns)]));
  } finally {
    for (const target of targets) target.kill();
  }
}

/** What the bot's store did, and whether every push became a new event id (fewer means dedup short-circuited). */
function storeNote(m: Measured): string {
  const s = m.store;
  const failures = m.throughput.failures + (m.fixedRate?.failures ?? 0);
  return (
    `${s.handled} new message ids stored for ${m.pushesBuilt} pushes built; ${s.appends} log appends ` +
    `(${(s.handled / s.appends).toFixed(2)} pushes, ${(s.changes / s.appends).toFixed(1)} changes, ${(s.appendMs / s.appends).toFixed(2)} ms each), ` +
    `${s.compactions} snapshots (${s.compactionMs.toFixed(0)} ms)${failures > 0 ? `; ${failures} non-2xx answers or errors` : ''}` +
    `${m.signedLate > 0 ? `; ${m.signedLate} pushes signed during the run (pool ran dry)` : ''}`
  );
}

export async function benchWebhook(log: (line: string) => void): Promise<Row[]> {
  const server = await bundle('bench/webhook-server.ts', 'webhook-server.js');
  const kinds = ['bare', 'bare-body', 'verify', 'verify-http', 'sdk', 'bot-chatter', 'bot', 'bot-fsync'] as const;
  const m = await measureAll(server.file, [...kinds], ['bare', 'bot', 'bot-fsync'], log);
  const big = await measureDuringSnapshot(server.file, log);
  const sameRate = await cpuAtSameRate(server.file, ['bare-body', 'verify', 'verify-http', 'sdk', 'bot-chatter'], log);
  const get = (kind: ServerKind) => m.get(kind) as Measured;
  const [bare, bareBody, verify, verifyHttp, sdk, botChatter, bot, botFsync] = kinds.map((kind) => get(kind).throughput) as [
    Figures,
    Figures,
    Figures,
    Figures,
    Figures,
    Figures,
    Figures,
    Figures,
  ];
  const cpuRow = (kind: string, figures: Figures, note: string): Row => ({
    figure: `webhook CPU per push, ${kind}`,
    unit: 'µs',
    value: figures.cpuUsPerPush,
    baseline: { label: 'body-reading bare Koa', value: bareBody.cpuUsPerPush },
    ratio: figures.cpuUsPerPush / bareBody.cpuUsPerPush,
    note: `${figures.requestsPerSecond.toFixed(0)} req/s; ${note}`,
  });
  /** The chatter path's CPU target: the bot's figures against the body-reading Koa's, measured alike. */
  const chatterCpuRow = (figure: string, chatterFigures: Figures, baseline: Figures, ok: boolean, note: string): Row => {
    const ratio = chatterFigures.cpuUsPerPush / baseline.cpuUsPerPush;
    return {
      figure,
      unit: 'µs',
      value: chatterFigures.cpuUsPerPush,
      baseline: { label: 'Koa reading + parsing the body', value: baseline.cpuUsPerPush },
      ratio,
      target: 'ratio <= 1.50',
      pass: ratio <= 1.5 && ok,
      note,
    };
  };
  const [bareBodyPaced, verifyPaced, verifyHttpPaced, sdkPaced, chatterPaced] = (['bare-body', 'verify', 'verify-http', 'sdk', 'bot-chatter'] as const).map(
    (kind) => sameRate.get(kind) as Figures,
  ) as [Figures, Figures, Figures, Figures, Figures];
  const pacedOk = [bareBodyPaced, chatterPaced].every((figures) => figures.failures === 0);
  const chatterVsSdk = throughputRatio(botChatter, sdk);
  const chatterOk = botChatter.failures === 0;
  const bareRate = get('bare').fixedRate as Figures;
  const botRate = get('bot').fixedRate as Figures;
  const botFsyncRate = get('bot-fsync').fixedRate as Figures;
  const botOk = bot.failures === 0 && get('bot').store.handled === get('bot').pushesBuilt;

  return [
    chatterCpuRow(
      'chatter path CPU per push, bot vs body-reading bare Koa',
      botChatter,
      bareBody,
      chatterOk,
      `group chatter not for the bot (verified, decrypted, parsed, answered, never stored); process CPU (user + system, from the kernel) over the pushes answered, ${ROUNDS} interleaved rounds, each server flat out (bot ${botChatter.requestsPerSecond.toFixed(0)} req/s, baseline ${bareBody.requestsPerSecond.toFixed(0)}); the floor, verify-only node:http, ${verifyHttp.cpuUsPerPush.toFixed(1)} µs (${(verifyHttp.cpuUsPerPush / bareBody.cpuUsPerPush).toFixed(2)}x); by round ${roundRatios(botChatter, bareBody)}; in user mode bot ${botChatter.userUsPerPush.toFixed(1)}, floor ${verifyHttp.userUsPerPush.toFixed(1)}, baseline ${bareBody.userUsPerPush.toFixed(1)} µs (${(botChatter.userUsPerPush / bareBody.userUsPerPush).toFixed(2)}x)`,
    ),
    chatterCpuRow(
      `chatter path CPU per push at ${SAME_RATE.toLocaleString('en')} req/s, bot vs body-reading bare Koa`,
      chatterPaced,
      bareBodyPaced,
      pacedOk,
      `the same chatter pushes at the same pace to every server (open loop, ${ROUNDS} interleaved rounds of ${FIXED_RATE_SECONDS} s); verify-only Koa ${verifyPaced.cpuUsPerPush.toFixed(0)} µs, verify-only node:http ${verifyHttpPaced.cpuUsPerPush.toFixed(0)} µs, SDK ${sdkPaced.cpuUsPerPush.toFixed(0)} µs; p99 bot ${chatterPaced.p99Ms.toFixed(1)} ms, baseline ${bareBodyPaced.p99Ms.toFixed(1)} ms`,
    ),
    {
      figure: 'chatter path throughput, bot vs SDK',
      unit: 'req/s',
      value: botChatter.requestsPerSecond,
      baseline: { label: 'SDK adaptKoa', value: sdk.requestsPerSecond },
      ratio: chatterVsSdk,
      target: 'ratio >= 1.30',
      pass: chatterVsSdk >= 1.3 && chatterOk,
      note: `the same chatter pushes to both; SDK ${sdk.cpuUsPerPush.toFixed(0)} µs CPU per push; rounds ${botChatter.perRound.map((v, i) => (v / (sdk.perRound[i] as number)).toFixed(2)).join(', ')}`,
    },
    cpuRow('bare Koa', bare, 'answers {} unread (the load generator bounds it)'),
    cpuRow('verify-only Koa', verify, "Koa reading, verifying, decrypting and parsing with the bot's functions"),
    cpuRow('verify-only node:http', verifyHttp, 'the same straight from node:http, as the bot serves pushes: the floor for a verifying server here'),
    cpuRow('SDK adaptKoa', sdk, 'the SDK adapter and EventDispatcher, a no-op handler'),
    {
      figure: 'stored command path CPU per push vs chatter path',
      unit: 'µs',
      value: bot.cpuUsPerPush,
      baseline: { label: 'bot, chatter', value: botChatter.cpuUsPerPush },
      ratio: bot.cpuUsPerPush / botChatter.cpuUsPerPush,
      note: `@Bot /help from a new member: throttled, event id and job committed (file store) before the answer; STORE_FSYNC_MS=0 ${botFsync.cpuUsPerPush.toFixed(0)} µs`,
    },
    {
      figure: 'webhook throughput, bot vs SDK',
      unit: 'req/s',
      value: bot.requestsPerSecond,
      baseline: { label: 'SDK adaptKoa', value: sdk.requestsPerSecond },
      ratio: throughputRatio(bot, sdk),
      target: 'ratio >= 1.00',
      pass: throughputRatio(bot, sdk) >= 1 && botOk,
      note: `${CONNECTIONS} connections, ${ROUNDS} interleaved rounds (value: median round; ratio: median of the rounds' ratios), default STORE_FSYNC_MS; ${storeNote(get('bot'))}`,
    },
    {
      figure: 'webhook throughput, bot vs bare Koa',
      unit: 'req/s',
      value: bot.requestsPerSecond,
      baseline: { label: 'bare Koa', value: bare.requestsPerSecond },
      ratio: throughputRatio(bot, bare),
      target: 'ratio >= 0.60',
      pass: throughputRatio(bot, bare) >= 0.6 && botOk,
      note: `bare Koa used ${((bare.cpuUsPerPush * bare.requestsPerSecond) / 1e6).toFixed(2)} of a core: on 2 cores the load generator bounds it`,
    },
    {
      figure: 'webhook throughput, verify-only Koa vs bare Koa',
      unit: 'req/s',
      value: verify.requestsPerSecond,
      baseline: { label: 'bare Koa', value: bare.requestsPerSecond },
      ratio: throughputRatio(verify, bare),
      note:
        `Koa that reads, verifies, decrypts and parses each push with the bot's functions, then answers (no store, no job): ` +
        `the ceiling for any server that checks pushes here; ${verify.cpuUsPerPush.toFixed(0)} µs CPU per push`,
    },
    {
      figure: 'webhook throughput, STORE_FSYNC_MS=0',
      unit: 'req/s',
      value: botFsync.requestsPerSecond,
      baseline: { label: 'SDK adaptKoa', value: sdk.requestsPerSecond },
      ratio: throughputRatio(botFsync, sdk),
      note: `the bot with an fdatasync before every answer; ${storeNote(get('bot-fsync'))}`,
    },
    {
      figure: 'webhook server CPU per push',
      unit: 'µs',
      value: bot.cpuUsPerPush,
      baseline: { label: 'SDK', value: sdk.cpuUsPerPush },
      ratio: bot.cpuUsPerPush / sdk.cpuUsPerPush,
      note: `all threads of the server process; bare Koa ${bare.cpuUsPerPush.toFixed(0)} µs, bot with STORE_FSYNC_MS=0 ${botFsync.cpuUsPerPush.toFixed(0)} µs`,
    },
    { figure: 'webhook p50 at full load', unit: 'ms', value: bot.p50Ms, baseline: { label: 'SDK', value: sdk.p50Ms }, ratio: bot.p50Ms / sdk.p50Ms },
    { figure: 'webhook p99 at full load', unit: 'ms', value: bot.p99Ms, baseline: { label: 'SDK', value: sdk.p99Ms }, ratio: bot.p99Ms / sdk.p99Ms },
    {
      figure: `webhook p99 at ${FIXED_RATE} req/s`,
      unit: 'ms',
      value: botRate.p99Ms,
      baseline: { label: 'bare Koa', value: bareRate.p99Ms },
      ratio: botRate.p99Ms / bareRate.p99Ms,
      target: 'value < 10 ms',
      pass: botRate.p99Ms < 10 && botRate.failures === 0,
      note:
        `p50 ${botRate.p50Ms.toFixed(2)} ms (bare ${bareRate.p50Ms.toFixed(2)} ms); ${botRate.snapshots} store snapshots during the runs; ` +
        `one push every ${(1000 / FIXED_RATE).toFixed(0)} ms for ${FIXED_RATE_SECONDS} s, open loop, each timed from when it was due; median of ${ROUNDS} interleaved rounds`,
    },
    {
      figure: `webhook p99 at ${FIXED_RATE} req/s during a 100k snapshot`,
      unit: 'ms',
      value: big.during.p99Ms,
      baseline: { label: 'no snapshot', value: big.without.p99Ms },
      ratio: big.during.p99Ms / big.without.p99Ms,
      note:
        `a bot holding 100,000 to-dos; a snapshot of its store started ${SNAPSHOT_AFTER_MS / 1000} s into each ${FIXED_RATE_SECONDS} s run and took ` +
        `${big.snapshotMs.map((ms) => ms.toFixed(0)).join(', ')} ms; p50 ${big.during.p50Ms.toFixed(2)} ms (${big.without.p50Ms.toFixed(2)} without); ` +
        `median of ${ROUNDS} rounds taking turns with runs without one; ${big.during.failures + big.without.failures} failures`,
    },
    {
      figure: `webhook p99 at ${FIXED_RATE} req/s, STORE_FSYNC_MS=0`,
      unit: 'ms',
      value: botFsyncRate.p99Ms,
      baseline: { label: 'bare Koa', value: bareRate.p99Ms },
      ratio: botFsyncRate.p99Ms / bareRate.p99Ms,
      note: `p50 ${botFsyncRate.p50Ms.toFixed(2)} ms; ${botFsyncRate.snapshots} store snapshots during the runs`,
    },
  ];
}
