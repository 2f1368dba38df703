import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type EmulatedChat, messageEvent, startEmulator } from '../emulator';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { SECRETS, botEnv, median, signedPush, sleep, tempDir } from './fixtures';
import type { Row } from './table';

/**
 * Figure 3: how close the bot runs to Feishu's documented limits when many people open a form at once. Distinct
 * members each push `@Bot /todo` (TODO_ALLOWED=everyone) through the real bot; the emulator enforces the limits.
 * Measured from the first push to the last ephemeral send the emulator accepted.
 *
 * The 1,000 across 25 groups are exactly the app's 1,000-per-minute allowance for ephemeral sends. At 50/s they
 * take about 20 s, so all 1,000 fit in one minute and the per-second limit is the one measured; the 1,001st would
 * wait for the minute to roll over. Each scenario therefore gets a fresh emulator (fresh windows) and a fresh bot
 * (fresh limiter), and sends exactly its N, all measured.
 */

const SEND_PATH = '/open-apis/ephemeral/v1/send';
/** Pushes in flight at once while the burst of commands arrives. */
const PUSH_CONCURRENCY = 10;

export interface Scenario {
  name: string;
  groups: number;
  perGroup: number;
  limit: number;
  limitText: string;
}

export const ACROSS_GROUPS: Scenario = { name: '1,000 forms across 25 groups', groups: 25, perGroup: 40, limit: 50, limitText: '50/s per app' };
const SCENARIOS: Scenario[] = [{ name: '300 forms in 1 group', groups: 1, perGroup: 300, limit: 40, limitText: '40/s per group' }, ACROSS_GROUPS];

/** Several instances of the bot on one PostgreSQL schema, in this process; the pushes go to them in turn. */
export interface FleetSetup {
  instances: number;
  databaseUrl: string;
  schema: string;
}

interface FanOutResult {
  delivered: number;
  /** Spacing between consecutive accepted sends: the limiter's pace, and its worst hiccup. */
  medianGapMs: number;
  maxGapMs: number;
  elapsedMs: number;
  firstSendMs: number;
  rateLimitRejections: number;
  failedSends: number;
  failedPushes: number;
}

async function fanOut(s: Scenario, fleet?: FleetSetup): Promise<FanOutResult> {
  const total = s.groups * s.perGroup;
  const chats: EmulatedChat[] = Array.from({ length: s.groups }, (_, g) => ({
    chatId: `oc_fan${g}`,
    chatType: 'group',
    ownerId: `ou_owner${g}`,
    managerIds: [],
    memberIds: [`ou_owner${g}`, ...Array.from({ length: s.perGroup }, (_, m) => `ou_g${g}m${m}`)],
  }));
  const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, enforceRateLimits: true, chats });
  const dir = await tempDir('fanout');
  const database = fleet && { DATABASE_URL: fleet.databaseUrl, DATABASE_SCHEMA: fleet.schema, DATABASE_POOL_SIZE: '4' };
  const config = loadConfig(botEnv({ feishuDomain: emu.url, dataFile: join(dir, 'db.json'), extra: { TODO_ALLOWED: 'everyone', ...database } }));
  // Each has loaded the Feishu SDK and asked Feishu who it is before it is ready (the credentials check at start).
  const apps = await Promise.all(Array.from({ length: fleet?.instances ?? 1 }, () => startApp(config, { logger: createLogger('silent') })));
  try {
    // Round-robin over the groups, as a burst across many chats arrives interleaved.
    const pushes = Array.from({ length: total }, (_, i) => {
      const g = i % s.groups;
      const m = Math.floor(i / s.groups);
      return signedPush(
        messageEvent({
          token: SECRETS.verificationToken,
          chatId: `oc_fan${g}`,
          senderId: `ou_g${g}m${m}`,
          text: `@_user_1 /todo Prepare item ${i}`,
          mentions: [{ key: '@_user_1', openId: 'ou_bot', name: 'To-do Bot' }],
          eventId: `ev_fan_${s.groups}_${i}`,
        }),
      );
    });
    let failedPushes = 0;
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: PUSH_CONCURRENCY }, async () => {
        while (next < pushes.length) {
          const index = next++;
          const push = pushes[index] as (typeof pushes)[number];
          const app = apps[index % apps.length] as (typeof apps)[number];
          const answer = await fetch(`${app.url}/webhook/event`, { method: 'POST', headers: push.headers, body: push.body });
          await answer.arrayBuffer();
          if (answer.status !== 200) failedPushes++;
        }
      }),
    );

    // Twice the ideal time plus a margin, so a slow bot shows as a low rate rather than a hang.
    const deadline = started + (2 * total * 1000) / s.limit + 15_000;
    const sends = () => emu.successfulCallsTo('POST', SEND_PATH);
    while (sends().length < total && Date.now() < deadline) await sleep(50);
    const accepted = sends();
    const times = accepted.map((call) => call.at).sort((a, b) => a - b);
    const gaps = times.slice(1).map((at, i) => at - (times[i] as number));
    return {
      medianGapMs: median(gaps),
      maxGapMs: Math.max(0, ...gaps),
      delivered: new Set(accepted.map((call) => `${call.body?.chat_id}/${call.body?.open_id}`)).size,
      elapsedMs: Math.max(...times) - started,
      firstSendMs: Math.min(...times) - started,
      rateLimitRejections: emu.rateLimitRejections,
      failedSends: emu.callsTo('POST', SEND_PATH).length - accepted.length - emu.rateLimitRejections,
      failedPushes,
    };
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One scenario's row: the pace against Feishu's limit, every form delivered, no error of any kind. */
export async function fanOutRow(s: Scenario, log: (line: string) => void, fleet?: FleetSetup): Promise<Row> {
  const total = s.groups * s.perGroup;
  const through = fleet ? ` through ${fleet.instances} instances on PostgreSQL` : '';
  const r = await fanOut(s, fleet);
  const rate = (r.delivered * 1000) / r.elapsedMs;
  const errors = r.rateLimitRejections + r.failedSends + r.failedPushes + (total - r.delivered);
  log(
    `fan-out ${s.name}${through}: ${r.delivered}/${total} in ${(r.elapsedMs / 1000).toFixed(1)} s = ${rate.toFixed(1)}/s, ${errors} errors, median gap ${r.medianGapMs} ms, max ${r.maxGapMs} ms`,
  );
  return {
    figure: `fan-out, ${s.name}${through}`,
    unit: '/s',
    value: rate,
    baseline: { label: `limit ${s.limitText}`, value: s.limit },
    ratio: rate / s.limit,
    target: 'ratio >= 0.90, 0 errors',
    pass: rate >= 0.9 * s.limit && errors === 0,
    note:
      `${r.delivered}/${total} forms shown in ${(r.elapsedMs / 1000).toFixed(2)} s (first after ${r.firstSendMs} ms; ` +
      `sends ${r.medianGapMs} ms apart at the median, ${r.maxGapMs} ms at worst); ` +
      `${r.rateLimitRejections} rate-limit refusals, ${r.failedSends} other failed sends, ${r.failedPushes} failed pushes` +
      (fleet ? `; each push to the next instance in turn, every permit taken from the limiter in the database` : ''),
  };
}

export async function benchFanout(log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const s of SCENARIOS) rows.push(await fanOutRow(s, log));
  return rows;
}
