/**
 * The one clock the emulator and the bot share. It runs with real time and can only be moved forward, as the page's
 * clock control does, so reminders and form expiry come due without waiting.
 */
export class PlaygroundClock {
  private offsetMs: number;

  /** `startAt` (ms since the epoch) sets where it starts; it starts at the real time without one. */
  constructor(startAt?: number) {
    this.offsetMs = startAt === undefined ? 0 : startAt - Date.now();
  }

  readonly now = (): number => Date.now() + this.offsetMs;

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) throw new Error(`the clock only moves forward, by a positive amount (got ${ms})`);
    this.offsetMs += ms;
  }
}
