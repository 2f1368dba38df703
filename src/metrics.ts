import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BuildInfo } from './build-info';
import type { FeishuObserver } from './feishu/transport';
import type { ComponentHealth, HealthSource } from './health';
import type { RenewalObservation } from './jobs/leases';
import { RECEIVER_STATES, type ReceiverHealth } from './receivers/receiver';
import type { PushRoute } from './receivers/webhook';
import type { StorePool, StoreStats } from './store/store';

/**
 * Every metric the bot exports, in one place, each app with its own registry (the tests run several apps in one
 * process). Counters and histograms are fed as things happen; gauges are read at scrape time: the store's counts
 * once per scrape (one call, which the store answers from its indexes or with one query), the rest from memory.
 */

export interface MetricSources {
  storeStats: () => Promise<StoreStats>;
  /** PostgreSQL's connection pool, where the store has one. */
  storePool?: () => StorePool | undefined;
  build: BuildInfo;
  /** Jobs this instance runs right now. */
  jobsRunning: () => number;
  health: () => readonly HealthSource[];
  /** How pushes arrive, once the receiver exists. */
  events: () => ReceiverHealth | undefined;
}

/** What one scrape read, for the gauges to report. */
interface Scrape {
  stats?: StoreStats | undefined;
  components: Array<[name: string, health: ComponentHealth]>;
}

/** A route and outcome's two series, as label children. */
interface PushSeries {
  count: { inc(): void };
  seconds: { observe(value: number): void };
}

/** Pushes noted before they are recorded in prom-client's metrics (see `Metrics.push`). */
const PUSH_BATCH = 256;

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  private readonly pushes = new Counter({
    name: 'todo_bot_pushes_total',
    help: 'Pushes from Feishu by route (event, card) and outcome (accepted, challenge, refused, busy, failed)',
    labelNames: ['route', 'outcome'] as const,
    registers: [this.registry],
    collect: () => this.recordPushes(),
  });
  private readonly pushSeconds = new Histogram({
    name: 'todo_bot_push_duration_seconds',
    help: 'Time to answer a push, from its first byte read to the answer',
    labelNames: ['route'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
    collect: () => this.recordPushes(),
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
    help: 'Time a call was held back by one of Feishu’s documented rate limits (calls that were not held back are not counted)',
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
  private readonly leaseRenewalSeconds = new Histogram({
    name: 'todo_bot_lease_renewal_seconds',
    help: 'Round trip of one renewal of the running jobs’ leases (on a database connection of its own)',
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly leaseRenewalLag = new Histogram({
    name: 'todo_bot_lease_renewal_lag_seconds',
    help: 'How late the lease renewal’s timer fired: the event loop’s lag as a renewal meets it',
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly leasesLost = new Counter({
    name: 'todo_bot_job_leases_lost_total',
    help: 'Leases lost while their job ran (another instance may run the job), by job kind',
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

  private readonly reminderLateness = new Histogram({
    name: 'todo_bot_reminder_lateness_seconds',
    help: 'From a reminder’s due time to its post in the chat',
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600],
    registers: [this.registry],
  });
  private readonly storeCommits = new Histogram({
    name: 'todo_bot_store_commit_duration_seconds',
    help: 'Time of one store commit (the file store: to its log; PostgreSQL: the transaction)',
    buckets: [0.0005, 0.001, 0.0025, ...SECONDS_BUCKETS],
    registers: [this.registry],
  });

  private scrape: Scrape = { components: [] };

  constructor(private readonly sources: MetricSources) {
    // The lag histogram's timer wakes the process at every sample: prom-client's 10 ms kept an idle bot at 7.8 ms of
    // CPU a second (1.4 ms at 100 ms), and 10 samples a second still catch any stall worth an alert.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    const registers = [this.registry];
    const scraped = () => this.scrape;
    new Gauge({
      name: 'todo_bot_jobs',
      help: 'Outbound jobs by state: pending (stored, not finished, fleet-wide), running (on this instance), retrying (failed before, waiting)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const { stats } = scraped();
        if (stats) this.set({ state: 'pending' }, stats.pendingJobs);
        if (stats) this.set({ state: 'retrying' }, stats.retryingJobs);
        this.set({ state: 'running' }, sources.jobsRunning());
      },
    });
    new Gauge({
      name: 'todo_bot_oldest_pending_job_age_seconds',
      help: 'Age of the oldest job not yet finished',
      registers,
      collect() {
        const created = scraped().stats?.oldestJobCreatedAt;
        this.set(created === undefined ? 0 : Math.max(0, (Date.now() - created) / 1000));
      },
    });
    new Gauge({
      name: 'todo_bot_reminders_pending',
      help: 'Open to-dos with a reminder still to come',
      registers,
      collect() {
        const { stats } = scraped();
        if (stats) this.set(stats.remindersPending);
      },
    });
    new Gauge({
      name: 'todo_bot_forms_open',
      help: 'To-do forms open (shown, neither submitted nor closed)',
      registers,
      collect() {
        const { stats } = scraped();
        if (stats) this.set(stats.formsOpen);
      },
    });
    new Gauge({
      name: 'todo_bot_component_up',
      help: 'Whether each part of the bot can work (1) or not (0), as /healthz reports it',
      labelNames: ['component'] as const,
      registers,
      collect() {
        for (const [name, health] of scraped().components) this.set({ component: name }, health.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'todo_bot_task_sync_refused',
      help: 'Whether Feishu Task refuses the app (1: a Task scope is missing, so new to-dos do not sync) or not (0)',
      registers,
      collect() {
        const taskSync = scraped().components.find(([name]) => name === 'taskSync')?.[1];
        this.set(taskSync?.refused === true ? 1 : 0);
      },
    });
    new Gauge({
      name: 'todo_bot_events_connection_state',
      help: 'How pushes arrive: 1 for the receiver’s current state (webhook: always open), 0 for the others',
      labelNames: ['transport', 'state'] as const,
      registers,
      collect() {
        const events = sources.events();
        if (!events) return;
        for (const state of RECEIVER_STATES) this.set({ transport: events.transport, state }, state === events.state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'todo_bot_build_info',
      help: 'What is running: always 1, its version and the commit it was built from as labels',
      labelNames: ['version', 'commit', 'node'] as const,
      registers,
      collect() {
        this.set({ version: sources.build.version, commit: sources.build.commit, node: process.versions.node }, 1);
      },
    });
    new Gauge({
      name: 'todo_bot_feishu_reachable',
      help: 'Whether Feishu answered the last call made to it (1) or has not been reached since the last network error (0)',
      registers,
      collect() {
        const feishu = scraped().components.find(([name]) => name === 'feishu')?.[1];
        if (feishu) this.set(feishu.reachable === true ? 1 : 0);
      },
    });
    new Gauge({
      name: 'todo_bot_postgres_pool_connections',
      help: 'PostgreSQL connections of this instance: total open, idle, and requests waiting for one',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const pool = sources.storePool?.();
        if (!pool) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
    new Gauge({
      name: 'todo_bot_events_reconnects',
      help: 'Long-connection reconnects since start',
      registers,
      collect() {
        this.set(sources.events()?.reconnects ?? 0);
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

  /**
   * `route` is the matched route's name, never the URL as typed: a typed spelling would be a series per spelling.
   * Pushes are noted here and recorded in batches (`recordPushes`): every PUSH_BATCH pushes, and before either push
   * metric is read, so a scrape always sees every push answered before it.
   */
  push(route: PushRoute, outcome: string, seconds: number): void {
    this.unrecordedSeries.push(this.pushSeries(route, outcome));
    this.unrecordedSeconds.push(seconds);
    if (this.unrecordedSeries.length >= PUSH_BATCH) this.recordPushes();
  }

  /**
   * prom-client hashes and validates the labels on every `inc` and `observe`, children included: 0.5 µs a push in a
   * loop doing nothing else, but 7-9 µs of a chatter push's CPU flat out when called once per push amid the rest of
   * its work (cold in the caches, as far as a profile tells). Back to back for a batch, they cost what the loop does
   * (bench/README.md, "The chatter path without awaits, push metrics in batches").
   */
  private recordPushes(): void {
    const seconds = this.unrecordedSeconds;
    for (const [i, series] of this.unrecordedSeries.entries()) {
      series.count.inc();
      series.seconds.observe(seconds[i] as number);
    }
    this.unrecordedSeries.length = 0;
    seconds.length = 0;
  }

  private readonly unrecordedSeries: PushSeries[] = [];
  private readonly unrecordedSeconds: number[] = [];

  /**
   * Each route and outcome's label children, made once: a handful (two routes, five outcomes); nothing resets the
   * registry, so a child stays its series.
   */
  private pushSeries(route: PushRoute, outcome: string): PushSeries {
    let byOutcome = this.pushChildren.get(route);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      this.pushChildren.set(route, byOutcome);
    }
    let series = byOutcome.get(outcome);
    if (series === undefined) {
      series = { count: this.pushes.labels(route, outcome), seconds: this.pushSeconds.labels(route) };
      byOutcome.set(outcome, series);
    }
    return series;
  }

  private readonly pushChildren = new Map<PushRoute, Map<string, PushSeries>>();

  command(command: string, outcome: string): void {
    this.commands.inc({ command, outcome });
  }

  cardAction(action: string, outcome: string): void {
    this.cardActions.inc({ action, outcome });
  }

  reminderPosted(latenessSeconds: number): void {
    this.reminderLateness.observe(Math.max(0, latenessSeconds));
  }

  storeCommit(seconds: number): void {
    this.storeCommits.observe(seconds);
  }

  jobAbandoned(kind: string): void {
    this.jobsAbandoned.inc({ kind });
  }

  leaseRenewal(observation: RenewalObservation): void {
    if (observation.latencyMs !== undefined) this.leaseRenewalSeconds.observe(observation.latencyMs / 1000);
    this.leaseRenewalLag.observe(observation.lagMs / 1000);
  }

  leaseLost(kind: string): void {
    this.leasesLost.inc({ kind });
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    const [stats, components] = await Promise.all([
      this.sources.storeStats().catch(() => undefined),
      Promise.all(this.sources.health().map(async (source) => [source.name, await source.health()] as [string, ComponentHealth])),
    ]);
    this.scrape = { stats, components };
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
