/**
 * A min-heap of (due time, key): what is due next, in O(log n), with no timer per entry. Entries are never
 * removed in place; the owner checks each popped key against its record and ignores stale ones.
 */
export class DueIndex {
  private readonly heap: Array<{ at: number; key: string }> = [];

  get size(): number {
    return this.heap.length;
  }

  add(at: number, key: string): void {
    const heap = this.heap;
    heap.push({ at, key });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= at) break;
      [heap[i], heap[parent]] = [heap[parent] as { at: number; key: string }, heap[i] as { at: number; key: string }];
      i = parent;
    }
  }

  /** The earliest due time, if any. */
  peek(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Removes and returns every entry due at or before `now`, as `[at, key]`, earliest first. */
  popDue(now: number): Array<[at: number, key: string]> {
    const due: Array<[number, string]> = [];
    while (this.heap.length > 0 && (this.heap[0] as { at: number }).at <= now) {
      const { at, key } = this.pop();
      due.push([at, key]);
    }
    return due;
  }

  private pop(): { at: number; key: string } {
    const heap = this.heap;
    const top = heap[0] as { at: number; key: string };
    const last = heap.pop() as { at: number; key: string };
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && (heap[left] as { at: number }).at < (heap[smallest] as { at: number }).at) smallest = left;
        if (right < heap.length && (heap[right] as { at: number }).at < (heap[smallest] as { at: number }).at) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest] as { at: number; key: string }, heap[i] as { at: number; key: string }];
        i = smallest;
      }
    }
    return top;
  }
}
