import type { Budget } from '../store';

/**
 * The budgets commits spend (`Commit.budget`), held in memory as the file store's process is the only one counting
 * them: a window lasts seconds, and a restart forgiving a person's spent points does no harm.
 */
export class Budgets {
  private readonly windows = new Map<string, { spent: number; endsAt: number }>();

  /** Spends one point of the budget at `now`; returns the points spent in its window, this one included. */
  spend(budget: Budget, now: number): number {
    const window = this.windows.get(budget.key);
    if (window === undefined || window.endsAt <= now) {
      this.windows.set(budget.key, { spent: 1, endsAt: now + budget.windowMs });
      return 1;
    }
    return ++window.spent;
  }

  /** Forgets the windows that ended by `now`. */
  prune(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
