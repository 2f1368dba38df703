import pTimeout from 'p-timeout';
import type { Logger } from '../log';

/**
 * People's time zones from their Feishu profiles, cached. A card callback must be answered within 3 s from stored
 * state, so the answer path reads the cache, or waits a bounded time for a look-up; the form's own owner is looked
 * up when the form is sent. A refusal (no contact scope: 99991672; outside the app's contact range: 41050; Feishu
 * unreachable) means "unknown", and is remembered briefly so that a missing scope does not cost a call per click.
 */

export interface ProfileZoneOptions {
  lookup: (userId: string) => Promise<string | undefined>;
  now: () => number;
  logger: Logger;
  /** How long a known zone is trusted (people rarely move). */
  knownTtlMs?: number | undefined;
  /** How long "unknown" is remembered (a scope granted later is noticed within this). */
  unknownTtlMs?: number | undefined;
  /** People remembered at most; the oldest entry goes first. */
  limit?: number | undefined;
}

interface Entry {
  zone: string | undefined;
  expiresAt: number;
}

export class ProfileZones {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  private readonly knownTtlMs: number;
  private readonly unknownTtlMs: number;
  private readonly limit: number;

  constructor(private readonly options: ProfileZoneOptions) {
    this.knownTtlMs = options.knownTtlMs ?? 12 * 60 * 60_000;
    this.unknownTtlMs = options.unknownTtlMs ?? 10 * 60_000;
    this.limit = options.limit ?? 10_000;
  }

  /** The zone already known for `userId`, without asking Feishu. */
  cached(userId: string): string | undefined {
    return this.fresh(userId)?.zone;
  }

  /** The person's profile zone, asking Feishu at most once at a time per person; never rejects. */
  lookup(userId: string): Promise<string | undefined> {
    const known = this.fresh(userId);
    if (known) return Promise.resolve(known.zone);
    let pending = this.inFlight.get(userId);
    if (!pending) {
      pending = this.ask(userId).finally(() => this.inFlight.delete(userId));
      this.inFlight.set(userId, pending);
    }
    return pending;
  }

  /** `lookup`, but unknown after `ms`: the look-up goes on and fills the cache for the next click. */
  within(userId: string, ms: number): Promise<string | undefined> {
    return pTimeout(this.lookup(userId), { milliseconds: ms, fallback: () => undefined });
  }

  private async ask(userId: string): Promise<string | undefined> {
    let zone: string | undefined;
    let ttl = this.knownTtlMs;
    try {
      zone = await this.options.lookup(userId);
      if (zone === undefined) ttl = this.unknownTtlMs;
    } catch (error) {
      ttl = this.unknownTtlMs;
      this.options.logger.info({ err: error }, 'profile time zone unknown');
    }
    this.remember(userId, { zone, expiresAt: this.options.now() + ttl });
    return zone;
  }

  private fresh(userId: string): Entry | undefined {
    const entry = this.cache.get(userId);
    return entry && entry.expiresAt > this.options.now() ? entry : undefined;
  }

  private remember(userId: string, entry: Entry): void {
    this.cache.delete(userId);
    if (this.cache.size >= this.limit) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(userId, entry);
  }
}
