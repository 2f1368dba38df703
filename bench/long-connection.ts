import { type ChildProcess, fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { cardActionEvent, startEmulator } from '../emulator';
import { ROOT, SECRETS, type SignedPush, bundle, median, nextMessage, percentile, signedPush } from './fixtures';
import { CLICKED_TODO } from './long-connection-fixture';
import type { Row } from './table';

/**
 * The callback-latency figure: how long a card click waits for its answer over the long connection, against the
 * webhook, in the same run. Two bots, each alone in a child process (bundled as `npm start` runs the bot), share one
 * emulator in this process: one bot takes signed, encrypted POSTs to /webhook/card (keep-alive, as a busy Feishu
 * would reuse connections), the other holds a long connection to the emulator's gateway. Every click is "Done" on an
 * already done to-do, from its creator: answered from the store, with the card. Clicks go one at a time, each timed
 * from its send to its answer (over the connection: from the first frame written to the ack read), and the two
 * transports take turns round after round, so background load falls on both.
 */

const WARMUP = 500;
const ROUNDS = 3;
const PER_ROUND = 1_000;

type Transport = 'webhook' | 'long-connection';

interface Round {
  latenciesMs: number[];
  failures: number;
}

class BotProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(file: string, events: Transport, feishuDomain: string): Promise<BotProcess> {
    const child = fork(file, [events, feishuDomain], { cwd: ROOT, execArgv: ['--enable-source-maps'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { url } = await nextMessage<{ url: string }>(child);
    return new BotProcess(child, url);
  }

  async stop(): Promise<void> {
    const stopped = nextMessage(this.child, 30_000, (message) => message === 'stopped');
    this.child.send('stop');
    await stopped;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

let clicks = 0;
const click = () =>
  cardActionEvent({
    token: SECRETS.verificationToken,
    operatorId: CLICKED_TODO.creatorId,
    chatId: CLICKED_TODO.chatId,
    messageId: CLICKED_TODO.messageId as string,
    value: { action: 'todo.done', todoId: CLICKED_TODO.id },
    timezone: 'Asia/Shanghai',
    eventId: `ev_bench_click_${++clicks}`,
    appId: SECRETS.appId,
  });

/** A callback's answer, as far as the benchmark reads it. */
type CallbackAnswer = { toast?: { content?: string }; card?: { type?: string } } | undefined;

const answeredRight = (answer: CallbackAnswer) => answer?.toast?.content === 'Already done.' && answer?.card?.type === 'raw';

function post(agent: Agent, url: string, push: SignedPush): Promise<{ ms: number; ok: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const headers = { ...push.headers, 'content-length': String(Buffer.byteLength(push.body)) };
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const ms = performance.now() - started;
        try {
          resolve({ ms, ok: res.statusCode === 200 && answeredRight(JSON.parse(Buffer.concat(chunks).toString('utf8'))) });
        } catch {
          resolve({ ms, ok: false });
        }
      });
    });
    req.on('error', () => resolve({ ms: performance.now() - started, ok: false }));
    req.end(push.body);
  });
}

export async function benchLongConnection(log: (line: string) => void): Promise<Row[]> {
  const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
  const { file } = await bundle('bench/long-connection-server.ts', 'long-connection-server.mjs');
  const bots = new Map<Transport, BotProcess>();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    bots.set('webhook', await BotProcess.start(file, 'webhook', emu.url));
    bots.set('long-connection', await BotProcess.start(file, 'long-connection', emu.url));
    await emu.awaitConnections(1);
    const cardUrl = `${bots.get('webhook')?.url}/webhook/card`;

    const run = async (transport: Transport, count: number): Promise<Round> => {
      // Signed and encrypted beforehand, so that the run times the bot, not the load generator's crypto.
      const payloads = Array.from({ length: count }, click);
      const pushes = transport === 'webhook' ? payloads.map((payload) => signedPush(payload)) : [];
      const round: Round = { latenciesMs: [], failures: 0 };
      for (const [i, payload] of payloads.entries()) {
        if (transport === 'webhook') {
          const { ms, ok } = await post(agent, cardUrl, pushes[i] as SignedPush);
          if (ok) round.latenciesMs.push(ms);
          else round.failures++;
          continue;
        }
        const { delivered, answer, deliveries } = await emu.pushOverConnection(payload);
        if (delivered && answeredRight(answer)) round.latenciesMs.push(deliveries.at(-1)?.elapsedMs as number);
        else round.failures++;
      }
      return round;
    };

    await run('webhook', WARMUP);
    await run('long-connection', WARMUP);
    const rounds = new Map<Transport, Round[]>([
      ['webhook', []],
      ['long-connection', []],
    ]);
    for (let r = 1; r <= ROUNDS; r++) {
      const line: string[] = [];
      for (const transport of ['webhook', 'long-connection'] as const) {
        const round = await run(transport, PER_ROUND);
        rounds.get(transport)?.push(round);
        line.push(`${transport} p50 ${p(round, 50).toFixed(3)} ms, p99 ${p(round, 99).toFixed(3)} ms`);
      }
      log(`callbacks round ${r}: ${line.join('; ')}`);
    }
    return rows(rounds.get('long-connection') as Round[], rounds.get('webhook') as Round[]);
  } finally {
    agent.destroy();
    await Promise.all([...bots.values()].map((bot) => bot.stop().catch(() => bot.kill())));
    await emu.close();
  }
}

const p = (round: Round, q: number) =>
  percentile(
    [...round.latenciesMs].sort((a, b) => a - b),
    q,
  );

/** Each percentile as the median round's, and its ratio as the median of the rounds' ratios. */
function rows(connection: Round[], webhook: Round[]): Row[] {
  const failures = [...connection, ...webhook].reduce((sum, round) => sum + round.failures, 0);
  const figure = (q: number): Row => ({
    figure: `card callback answer p${q}, long connection vs webhook`,
    unit: 'ms',
    value: median(connection.map((round) => p(round, q))),
    baseline: { label: 'webhook, same run', value: median(webhook.map((round) => p(round, q))) },
    ratio: median(connection.map((round, i) => p(round, q) / p(webhook[i] as Round, q))),
    ...(q === 99 && { note: `${ROUNDS} rounds of ${PER_ROUND} clicks each way, one at a time; ${failures} failed or wrong answers` }),
  });
  return [figure(50), figure(99)];
}
