import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type EmulatedChat, startEmulator } from '../emulator';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { RECORD_VERSION, type Todo } from '../src/domain/model';
import { createLogger } from '../src/log';
import { EmbeddedStore } from '../src/store/embedded/embedded-store';
import { FilePersistence } from '../src/store/embedded/snapshot-log';
import { SECRETS, botEnv, median, sleep, tempDir } from './fixtures';
import type { Row } from './table';

/**
 * The daily digest's pace: 1,000 groups with open to-dos, all due at the same minute, posted through the real bot to
 * the emulator, which enforces Feishu's limits for sending messages (50 a second and 1,000 a minute per app, 5 a
 * second per group). 1,000 at 50/s take 20 s, inside the minute's allowance, so the per-second limit is the one
 * measured, from the first digest sent to the last.
 */

const GROUPS = 1_000;
/** Feishu's limit for sending messages, per app and second. */
const LIMIT = 50;
const MESSAGES = '/open-apis/im/v1/messages';
/** Monday 23 November 2026, 09:00 in Shanghai: every group's digest time. */
const DIGEST_AT = Date.UTC(2026, 10, 23, 1, 0);

export async function benchDigest(log: (line: string) => void): Promise<Row[]> {
  const chats: EmulatedChat[] = Array.from({ length: GROUPS }, (_, g) => ({
    chatId: `oc_dig${g}`,
    chatType: 'group',
    ownerId: `ou_owner${g}`,
    managerIds: [],
    memberIds: [`ou_owner${g}`, `ou_m${g}`],
  }));
  const emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret, enforceRateLimits: true, chats });
  const dir = await tempDir('digest');
  const dataFile = join(dir, 'db.json');
  // One open to-do in each group, made the day before.
  const seed = new EmbeddedStore(new FilePersistence(dataFile));
  await seed.open();
  const todos: Todo[] = chats.map((chat, g) => ({
    v: RECORD_VERSION,
    id: `todo_dig${g}`,
    formId: `form_dig${g}`,
    chatId: chat.chatId,
    creatorId: chat.ownerId,
    text: `Weekly report ${g}`,
    timeZone: 'Asia/Shanghai',
    assigneeIds: [`ou_m${g}`],
    status: 'open',
    messageId: `om_seed${g}`,
    createdAt: DIGEST_AT - 86_400_000,
    updatedAt: DIGEST_AT - 86_400_000,
  }));
  await seed.commit({ now: DIGEST_AT - 86_400_000, todos });
  await seed.close();

  const config = loadConfig(botEnv({ feishuDomain: emu.url, dataFile, extra: { DIGEST_TIME: '09:00', DIGEST_DAYS: 'daily' } }));
  // The bot's clock starts at the digest time and runs on; Feishu's limits run on the real clock.
  const startedAt = Date.now();
  const app = await startApp(config, { logger: createLogger('silent'), now: () => DIGEST_AT + (Date.now() - startedAt) });
  try {
    const deadline = Date.now() + (2 * GROUPS * 1000) / LIMIT + 30_000;
    const sends = () => emu.successfulCallsTo('POST', MESSAGES);
    while (sends().length < GROUPS && Date.now() < deadline) await sleep(100);
    const times = sends()
      .map((call) => call.at)
      .sort((a, b) => a - b);
    const delivered = new Set(sends().map((call) => call.body?.receive_id)).size;
    const elapsedMs = Math.max(1, (times.at(-1) ?? 0) - (times[0] ?? 0));
    const gaps = times.slice(1).map((at, i) => at - (times[i] as number));
    const rate = ((delivered - 1) * 1000) / elapsedMs;
    const failed = emu.callsTo('POST', MESSAGES).length - sends().length;
    const errors = emu.rateLimitRejections + failed + (GROUPS - delivered);
    log(`digest: ${delivered}/${GROUPS} groups in ${(elapsedMs / 1000).toFixed(1)} s = ${rate.toFixed(1)}/s, ${emu.rateLimitRejections} limit refusals`);
    return [
      {
        figure: 'digest, 1,000 groups due at the same minute',
        unit: '/s',
        value: rate,
        baseline: { label: `limit ${LIMIT}/s per app`, value: LIMIT },
        ratio: rate / LIMIT,
        target: 'ratio >= 0.90, 0 errors',
        pass: rate >= 0.9 * LIMIT && errors === 0,
        note:
          `${delivered}/${GROUPS} digests posted over ${(elapsedMs / 1000).toFixed(2)} s from the first to the last ` +
          `(${median(gaps)} ms apart at the median, ${Math.max(0, ...gaps)} ms at worst); ${emu.rateLimitRejections} rate-limit refusals, ${failed} failed sends`,
      },
    ];
  } finally {
    await app.stop();
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}
