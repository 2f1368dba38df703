import { CodedError, ErrorCode } from '../errors';
import type { HealthSource } from '../health';
import type { Logger } from '../log';
import { type BotInfo, type FeishuClient, credentialsRefused } from './client';
import { type FeishuApiError, feishuRefusal } from './errors';

/**
 * The start-up check, as Bolt's `auth.test` and grammY's `getMe`: a tenant token and the bot's own info are fetched
 * before the bot says it is ready. Credentials refused: start-up stops with one line. Feishu unreachable: the bot
 * starts anyway (its jobs are stored and will wait) and keeps trying in the background, saying so in the log and in
 * /healthz, until Feishu answers.
 */

export class CredentialsRefusedError extends CodedError {
  readonly code = ErrorCode.CredentialsRefused;

  constructor(refusal: FeishuApiError) {
    super(
      `Feishu refused the app's credentials (code ${refusal.feishuCode}: ${refusal.feishuMsg}): check FEISHU_APP_ID and FEISHU_APP_SECRET ` +
        'against the developer console, Credentials & Basic Info.',
      { cause: refusal },
    );
  }
}

/** Waits between background checks: doubling from 1 s, at most a minute. */
const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000];

export type CredentialsState = 'unchecked' | 'accepted' | 'refused';

export class FeishuCheck implements HealthSource {
  readonly name = 'feishu';
  private state: CredentialsState = 'unchecked';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly feishu: FeishuClient,
    private readonly logger: Logger,
    private readonly onBotInfo: (info: BotInfo) => void,
  ) {}

  /** Resolves once the credentials are accepted or Feishu is found unreachable; throws when they are refused. */
  async atStart(): Promise<void> {
    const outcome = await this.attempt();
    if (outcome.refused) throw new CredentialsRefusedError(outcome.refused);
    if (outcome.failure !== undefined) {
      // Reachable but refusing something else (the bot capability switched off, say) is said as such.
      const said = outcome.answered ? 'Feishu answered the start-up check with an error' : 'Feishu is unreachable';
      this.logger.warn({ err: outcome.failure }, `${said}; starting anyway and checking again in the background`);
      this.retry(0);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  health() {
    const { lastAnswerAt, lastNetworkErrorAt } = this.feishu.reachability;
    const reachable = lastAnswerAt !== undefined && (lastNetworkErrorAt === undefined || lastAnswerAt >= lastNetworkErrorAt);
    return {
      ok: this.state !== 'refused',
      // Not reached (a wrong FEISHU_DOMAIN, no network): the bot runs and its jobs wait, but it cannot answer anyone.
      degraded: !reachable,
      credentials: this.state,
      reachable,
      lastAnswerAt: lastAnswerAt === undefined ? undefined : new Date(lastAnswerAt).toISOString(),
      lastNetworkErrorAt: lastNetworkErrorAt === undefined ? undefined : new Date(lastNetworkErrorAt).toISOString(),
    };
  }

  private async attempt(): Promise<{ refused?: FeishuApiError | undefined; failure?: unknown; answered?: boolean }> {
    try {
      const info = await this.feishu.botInfo(1);
      this.state = 'accepted';
      this.onBotInfo(info);
      this.logger.info({ botOpenId: info.openId, appName: info.appName }, 'Feishu accepted the app credentials');
      return {};
    } catch (error) {
      const refused = credentialsRefused(error);
      if (refused) this.state = 'refused';
      return { refused, failure: error, answered: feishuRefusal(error) !== undefined };
    }
  }

  private retry(index: number): void {
    if (this.stopped) return;
    const delay = RETRY_DELAYS_MS[Math.min(index, RETRY_DELAYS_MS.length - 1)] as number;
    this.timer = setTimeout(async () => {
      const outcome = await this.attempt();
      if (this.stopped) return;
      if (outcome.refused) {
        const refused = new CredentialsRefusedError(outcome.refused);
        this.logger.error({ err: refused }, refused.message);
      } else if (outcome.failure !== undefined) this.retry(index + 1);
    }, delay);
    this.timer.unref();
  }
}
