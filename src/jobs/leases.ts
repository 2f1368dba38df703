import { performance } from 'node:perf_hooks';
import type { Logger } from '../log';
import { type Job, LeaseLost, type Store } from '../store/store';

/**
 * The leases of the jobs this instance runs: renewed in the background while they run, and checked before each of
 * their side effects, so that a job whose lease is gone (or may be: it ran out unrenewed, the event loop having
 * stalled or the database not answering) stops before doing anything more, while the instance that took it over
 * runs it. The store fences every write with the lease's token; this is the half of the guarantee the store cannot
 * give: not starting a call to Feishu after the lease passed on.
 *
 * A lease's time is counted here from when the request that granted or renewed it was sent, on this process's
 * monotonic clock: the store grants `leaseMs` from when it runs the statement, later still, so the lease is never
 * thought live here after it ran out there, whatever the two wall clocks say.
 */

/** What one renewal saw, for the metrics. */
export interface RenewalObservation {
  /** The renewal's round trip to the store (undefined when it failed). */
  latencyMs?: number;
  /** How late the renewal's timer fired: the event loop's lag at that moment (0 for a renewal asked for now). */
  lagMs: number;
}

export interface LeaseKeeperOptions {
  store: Pick<Store, 'renewLeases'>;
  leaseMs: number;
  logger: Logger;
  onRenewal?: ((observation: RenewalObservation) => void) | undefined;
  /** Told of every lease lost while its job ran (the metrics count them). */
  onLost?: ((job: Job) => void) | undefined;
  /** Monotonic milliseconds (tests drive it). */
  clock?: (() => number) | undefined;
}

/** A lease as this instance holds it. */
interface Held {
  job: Job;
  /** When the claim that granted the lease was sent. */
  claimedAt: number;
  /** When the request that last granted or renewed it was sent: the lease runs out `leaseMs` after, at the latest. */
  grantedAt: number;
  lost: boolean;
  /** The job is giving its lease back (finishing, or retrying later): a renewal that misses it found no loss. */
  returning: boolean;
}

/**
 * Renewals come every quarter of a lease, so a lease has three quarters left after each: a renewal may fail twice,
 * or the event loop stall for over half a lease, before one runs out.
 */
const RENEWALS_PER_LEASE = 4;
/** A side effect starts only with at least this share of a lease left; with less, the lease is renewed first. */
const SHARE_LEFT_TO_START = 0.5;

export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly everyMs: number;
  private timer: NodeJS.Timeout | undefined;
  private nextTickAt = 0;
  private renewing: Promise<void> | undefined;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.log = options.logger;
    this.clock = options.clock ?? (() => performance.now());
    this.everyMs = Math.max(5, Math.floor(options.leaseMs / RENEWALS_PER_LEASE));
  }

  /** Now, on the clock leases are counted on: read it before asking the store for leases. */
  now(): number {
    return this.clock();
  }

  start(): void {
    this.schedule(this.clock() + this.everyMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.renewing;
  }

  /** Keeps `job`'s lease from now on; `claimedAt` is when the claim that granted it was sent. */
  hold(job: Job, claimedAt: number): void {
    this.held.set(job.id, { job, claimedAt, grantedAt: claimedAt, lost: false, returning: false });
  }

  /** The job is about to give its lease back (finish or retry): a renewal that misses it has found no loss. */
  giveBack(job: Job): void {
    const held = this.heldFor(job);
    if (held) held.returning = true;
  }

  /** The job is done with its lease. */
  drop(job: Job): void {
    if (this.heldFor(job)) this.held.delete(job.id);
  }

  /**
   * Resolves when `job` may start a side effect: it holds its lease with at least half of it left (renewed now if
   * less). Throws `LeaseLost` when the lease is lost, or ran out here before a renewal could confirm it.
   */
  async assure(job: Job): Promise<void> {
    const held = this.heldFor(job);
    if (!held || held.lost) throw new LeaseLost(job.id);
    if (this.left(held) >= this.options.leaseMs * SHARE_LEFT_TO_START) return;
    await this.renew(0);
    if (held.lost) throw new LeaseLost(job.id);
    if (this.left(held) <= 0) {
      this.lose(held, { why: 'ran out unrenewed', lagMs: 0 });
      throw new LeaseLost(job.id);
    }
  }

  /** The store refused a write of `job`'s for its lease: lost, if no renewal or check had found so already. */
  refused(job: Job): void {
    const held = this.heldFor(job);
    if (held) this.lose(held, { why: 'a write was refused', lagMs: 0 });
  }

  private heldFor(job: Job): Held | undefined {
    const held = this.held.get(job.id);
    return held?.job === job ? held : undefined;
  }

  private left(held: Held): number {
    return held.grantedAt + this.options.leaseMs - this.clock();
  }

  /** Renews on a timer chained from when each tick was due, so that how late a tick fires is the event loop's lag. */
  private schedule(dueAt: number): void {
    this.nextTickAt = dueAt;
    this.timer = setTimeout(
      () => {
        const lagMs = Math.max(0, this.clock() - this.nextTickAt);
        void this.renew(lagMs).finally(() => {
          if (this.timer) this.schedule(Math.max(this.nextTickAt + this.everyMs, this.clock()));
        });
      },
      Math.max(0, dueAt - this.clock()),
    );
    this.timer.unref();
  }

  /** One renewal of every lease held (one at a time: a caller arriving meanwhile waits for the one under way). */
  private renew(lagMs: number): Promise<void> {
    this.renewing ??= this.renewHeld(lagMs).finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async renewHeld(lagMs: number): Promise<void> {
    const asked = [...this.held.values()].filter((held) => !held.lost && !held.returning);
    if (asked.length === 0) {
      this.options.onRenewal?.({ lagMs });
      return;
    }
    const sentAt = this.clock();
    let renewed: Set<string>;
    try {
      renewed = new Set(
        await this.options.store.renewLeases(
          asked.map((held) => held.job),
          this.options.leaseMs,
        ),
      );
    } catch (error) {
      this.log.error({ err: error, jobs: asked.length }, 'could not renew job leases');
      this.options.onRenewal?.({ lagMs });
      return;
    }
    const latencyMs = this.clock() - sentAt;
    for (const held of asked) {
      // Finished meanwhile (no lease to renew), or giving the lease back: neither is a loss.
      if (this.held.get(held.job.id) !== held || held.returning) continue;
      if (renewed.has(held.job.id)) {
        held.grantedAt = sentAt;
        continue;
      }
      this.lose(held, { why: 'renewal refused', lagMs, latencyMs, sinceGrantedMs: sentAt - held.grantedAt });
    }
    this.options.onRenewal?.({ latencyMs, lagMs });
  }

  /** Marks the lease lost and says so once, with what explains it. */
  private lose(held: Held, evidence: { why: string; lagMs: number; latencyMs?: number; sinceGrantedMs?: number }): void {
    if (held.lost) return;
    held.lost = true;
    this.options.onLost?.(held.job);
    const { why, lagMs, latencyMs, sinceGrantedMs = this.clock() - held.grantedAt } = evidence;
    this.log.warn(
      {
        jobId: held.job.id,
        why,
        leaseAgeMs: Math.round(this.clock() - held.claimedAt),
        sinceGrantedMs: Math.round(sinceGrantedMs),
        renewalLatencyMs: latencyMs === undefined ? undefined : Math.round(latencyMs),
        eventLoopLagMs: Math.round(lagMs),
      },
      'job lost its lease while running',
    );
  }
}
