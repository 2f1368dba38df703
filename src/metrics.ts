import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FeishuObserver } from './feishu/transport';
import type { HealthSource } from './health';
import type { StoreStats } from './store/store';

/**
 * Every metric the bot exports, in one place, each app with its own registry (the tests run several apps in one
 * process). Counters and histograms are fed as things happen; gauges that need store-wide counts are read at scrape
 * time from `StoreStats`, one small function the store answers from its indexes, so a scrape costs no walk.
 */

export interface MetricSources {
  storeStats: () => StoreStats;
  /** Jobs running right now (the outbox's busy lanes). */
  jobsRunning: () => number;
  health: () => readonly HealthSource[];
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  private readonly pushes = new Counter({
    name: 'todo_bot_pushes_total',
    help: 'Pushes from Feishu by route and outcome (accepted, challenge, refused, failed)',
    labelNames: ['route', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly pushSeconds = new Histogram({
    name: 'todo_bot_push_duration_seconds',
    help: 'Time to answer a push, from its first byte read to the answer',
    labelNames: ['route'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly feishuCalls = new Counter({
    name: 'todo_bot_feishu_calls_total',
    help: 'Attempts at Feishu API calls by API and result (0, Feishu code, or network)',
    labelNames: ['api', 'result'] as const,
    registers: [this.registry],
  });
  private readonly feishuSeconds = new Histogram({
    name: 'todo_bot_feishu_call_duration_seconds',
    help: 'Time of one attempt at a Feishu API call',
    labelNames: ['api'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly rateLimitWaits = new Histogram({
    name: 'todo_bot_feishu_rate_limit_wait_seconds',
    help: 'Waits for one of Feishu’s documented rate limits before a call (only waits that were not instant)',
    labelNames: ['method'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly jobsAbandoned = new Counter({
    name: 'todo_bot_jobs_abandoned_total',
    help: 'Jobs given up after a permanent failure or too many transient ones, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly commands = new Counter({
    name: 'todo_bot_commands_total',
    help: 'Commands handled, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly cardActions = new Counter({
    name: 'todo_bot_card_actions_total',
    help: 'Card clicks answered, by action and outcome (the toast shown)',
    labelNames: ['action', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    new Gauge({
      name: 'todo_bot_jobs',
      help: 'Outbound jobs by state: pending (stored, not finished), running, retrying (failed before, waiting)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const stats = sources.storeStats();
        this.set({ state: 'pending' }, stats.jobsPending);
        this.set({ state: 'running' }, sources.jobsRunning());
        this.set({ state: 'retrying' }, stats.jobsRetrying);
      },
    });
    new Gauge({
      name: 'todo_bot_oldest_pending_job_age_seconds',
      help: 'Age of the oldest job not yet finished',
      registers,
      collect() {
        this.set(sources.storeStats().oldestPendingJobAgeMs / 1000);
      },
    });
    new Gauge({
      name: 'todo_bot_reminders_pending',
      help: 'Open to-dos with a reminder still to come',
      registers,
      collect() {
        this.set(sources.storeStats().remindersPending);
      },
    });
    new Gauge({
      name: 'todo_bot_forms_open',
      help: 'To-do forms open (shown, neither submitted nor closed)',
      registers,
      collect() {
        this.set(sources.storeStats().formsOpen);
      },
    });
    new Gauge({
      name: 'todo_bot_component_up',
      help: 'Whether each part of the bot can work (1) or not (0), as /healthz reports it',
      labelNames: ['component'] as const,
      registers,
      collect() {
        for (const source of sources.health()) this.set({ component: source.name }, source.health().ok ? 1 : 0);
      },
    });
  }

  /** The transport's reports, as metrics. */
  readonly feishu: FeishuObserver = {
    attempt: (api, result, seconds) => {
      this.feishuCalls.inc({ api, result });
      this.feishuSeconds.observe({ api }, seconds);
    },
    rateLimitWait: (method, seconds) => this.rateLimitWaits.observe({ method }, seconds),
  };

  push(route: string, outcome: string, seconds: number): void {
    this.pushes.inc({ route, outcome });
    this.pushSeconds.observe({ route }, seconds);
  }

  command(command: string, outcome: string): void {
    this.commands.inc({ command, outcome });
  }

  cardAction(action: string, outcome: string): void {
    this.cardActions.inc({ action, outcome });
  }

  jobAbandoned(kind: string): void {
    this.jobsAbandoned.inc({ kind });
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
