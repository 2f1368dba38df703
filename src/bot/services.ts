import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type { FeishuClient } from '../feishu/client';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Records } from '../store/store';
import type { AdminDirectory } from './admins';
import type { ProfileZones } from './profile-zones';
import type { TaskSyncStatus } from './task-sync';
import type { ClickThrottle } from './throttle';

/** What the bot's handlers work with. Built once in `app.ts`; handlers receive it, never build parts of it. */
export interface Services {
  config: Config;
  store: Records;
  feishu: FeishuClient;
  admins: AdminDirectory;
  /** People's time zones from their Feishu profiles, cached. */
  profileZones: ProfileZones;
  /** Clicks per person and card: their own budget, with the commands' settings. */
  clicks: ClickThrottle;
  logger: Logger;
  now: () => number;
  /** The bot's own open_id, looked up once, to tell a mention of the bot from a mention of a colleague. */
  botOpenId: () => Promise<string>;
  /** The same, if already looked up: what the edge can use without asking Feishu. */
  knownBotOpenId: () => string | undefined;
  /** Whether Feishu Task lets the app sync (for /healthz and the metrics). */
  taskSync: TaskSyncStatus;
  /** Counts commands and card actions (the rest of the metrics are fed outside the bot). */
  metrics: Pick<Metrics, 'command' | 'cardAction' | 'reminderPosted'>;
}

/** A fresh random id for records nothing else names. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

/**
 * An id derived from another id, so that a retried handler finds the record its first run made instead of
 * making a second one; also short enough (≤ 50 chars) to serve as Feishu's `uuid`.
 */
export function derivedId(prefix: string, source: string): string {
  return `${prefix}_${createHash('sha256').update(source).digest('base64url').slice(0, 32)}`;
}
