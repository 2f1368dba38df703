import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../log';
import type { Committed } from '../store';
import { CONNECT_TIMEOUT_MS } from './settings';

/**
 * How instances tell each other of a commit that may give them work (see `PostgresStore.commit`): a NOTIFY on a channel
 * of the schema, sent inside the committing transaction (so it is heard only if the commit holds), and a LISTEN on a
 * connection of its own in each instance.
 * An instance ignores its own notices (it told its listeners at once). When the listening connection drops, it is
 * opened again after a pause that grows to 5 s, and listeners are told that anything may have changed, since
 * notices sent meanwhile were lost. It is a wake-up, not a record: the outbox and scheduler also poll, bounded.
 */

const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * TCP keepalive on the listening connection, which may sit idle for hours (the pools' connections close after 10 s
 * idle). A NAT or load balancer between an instance and its database forgets an idle connection without telling either
 * end (after 350 s on AWS's network load balancer, 4 minutes on Azure's), and the instance would go on believing it
 * listens. A probe a minute keeps such a path open; when the path is gone all the same, the probes fail, the
 * connection errors, and it is reopened as after any drop.
 */
export const LISTEN_KEEPALIVE_MS = 60_000;

export class CommitChannel {
  /** Written into each notice, so this instance knows its own. */
  readonly sender = randomUUID();
  readonly name: string;
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectDelayMs = 100;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    schema: string,
    private readonly heard: (committed: Committed) => void,
    private readonly logger?: Logger,
  ) {
    this.name = `feishu_todo_${schema}`;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen();
  }

  /** The notice for `pg_notify(name, …)`. */
  notice(committed: Committed): string {
    return JSON.stringify({ from: this.sender, jobs: committed.jobs, dueAt: committed.dueAt });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'feishu-todo-bot listen',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: LISTEN_KEEPALIVE_MS,
    });
    client.on('notification', (message) => this.receive(message.payload));
    client.on('error', (error) => this.logger?.warn({ err: error }, 'the PostgreSQL notification connection failed'));
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.reconnectSoon();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.name)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelayMs = 100;
  }

  private reconnectSoon(): void {
    if (this.stopped) return;
    this.reconnectTimer = setTimeout(() => {
      this.listen().then(
        // Notices sent while no connection listened are lost: anything may have changed.
        () => this.client && this.heard({ jobs: true, dueAt: 0 }),
        (error: Error) => {
          this.logger?.warn({ err: error, retryInMs: this.reconnectDelayMs }, 'cannot listen for PostgreSQL notifications yet');
          this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
          this.reconnectSoon();
        },
      );
    }, this.reconnectDelayMs);
    this.reconnectTimer.unref();
  }

  private receive(payload: string | undefined): void {
    let notice: { from?: unknown; jobs?: unknown; dueAt?: unknown; due?: unknown };
    try {
      notice = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (notice.from === this.sender) return;
    // An instance of an earlier version, still running during a rolling deploy, says only `due: true`.
    const dueAt = typeof notice.dueAt === 'number' ? notice.dueAt : notice.due === true ? 0 : undefined;
    this.heard({ jobs: notice.jobs === true, ...(dueAt !== undefined && { dueAt }) });
  }
}
