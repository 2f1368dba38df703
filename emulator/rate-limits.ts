/**
 * Sliding-window counters. Only admitted calls count, so a client that waits for the announced reset and retries
 * gets through, which is what the bot's retry layer relies on.
 */

export interface Window {
  key: string;
  limit: number;
  windowMs: number;
}

export interface Refusal {
  window: Window;
  /** Whole seconds until the oldest admitted call leaves the window; at least 1, as Feishu's reset header. */
  resetSeconds: number;
}

export const perSecond = (key: string, limit: number): Window => ({ key: `${key}/s`, limit, windowMs: 1000 });
export const perMinute = (key: string, limit: number): Window => ({ key: `${key}/min`, limit, windowMs: 60_000 });

export class SlidingWindows {
  private readonly hits = new Map<string, number[]>();

  /** Admits the call into every window, or into none when any one of them is full. */
  admit(windows: Window[], now: number): Refusal | null {
    for (const window of windows) {
      const recent = this.recent(window, now);
      const oldest = recent[0];
      if (oldest !== undefined && recent.length >= window.limit) {
        const resetSeconds = Math.max(1, Math.ceil((oldest + window.windowMs - now) / 1000));
        return { window, resetSeconds };
      }
    }
    for (const window of windows) this.recent(window, now).push(now);
    return null;
  }

  clear(): void {
    this.hits.clear();
  }

  private recent(window: Window, now: number): number[] {
    const kept = (this.hits.get(window.key) ?? []).filter((at) => at > now - window.windowMs);
    this.hits.set(window.key, kept);
    return kept;
  }
}
