import { CodedError, ErrorCode } from '../errors';

/**
 * Where the long connection's fragments wait for the rest of their push, bounded. Feishu splits a large push into
 * data frames that share a `message_id` and carry `sum` (how many) and `seq` (which one). The SDK's own cache
 * (`DataCache` in `@larksuiteoapi/node-sdk`) believes every frame: `new Array(sum)` for whatever `sum` says (one frame
 * with `sum: 1e9` aborted the process, heap out of memory), every unfinished push kept 10 s whatever it weighs (2,000
 * of them held 425 MB), and joined by copying the bytes once per fragment. This one takes the SDK's place
 * (`installFragmentCache`) and refuses, before anything is allocated for it, a fragment that would pass a bound.
 * A refused fragment is thrown, as the SDK's cache throws on malformed metadata: the SDK logs it and sends no ack,
 * so Feishu redelivers an event. docs/sdk-fragment-cache.md writes this up for the SDK's maintainers.
 */

export interface FragmentLimits {
  /** Most fragments one push may be split into. */
  maxFragments: number;
  /** Most bytes one push may hold, all its fragments together. */
  maxPushBytes: number;
  /** Most bytes all unfinished pushes together may hold. */
  maxBytes: number;
  /** Most pushes unfinished at once. */
  maxPushes: number;
  /** How long an unfinished push waits for its other fragments (the SDK's: 10 s). */
  ttlMs: number;
}

/** The SDK's fragment, as `WSClient.handleEventData` hands it to its cache's `mergeData`. */
export interface Fragment {
  message_id: string;
  sum: number;
  seq: number;
  trace_id?: string;
  data: Uint8Array;
}

export class FragmentRefused extends CodedError {
  readonly code = ErrorCode.EventFragmentRefused;

  constructor(reason: string) {
    super(`event fragment refused: ${reason}`);
  }
}

interface Unfinished {
  parts: Array<Uint8Array | undefined>;
  received: number;
  bytes: number;
  createdAt: number;
}

/**
 * Fragments are a fraction of Feishu's largest push (a 150 KB text message; test/unit/push-size.test.ts): a
 * thousand of them would be fragments of about 150 bytes. Beyond that a `sum` is not a split push.
 */
export const MAX_FRAGMENTS = 1_000;
/** Pushes unfinished at once: Feishu sends a split push's fragments back to back, so a few are in flight at most. */
export const MAX_UNFINISHED_PUSHES = 256;
const TTL_MS = 10_000;

export class FragmentCache {
  private readonly unfinished = new Map<string, Unfinished>();
  private heldBytes = 0;

  constructor(
    private readonly limits: FragmentLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** The bytes unfinished pushes hold now. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** The push's parsed JSON once its last fragment is in; null while fragments are missing. Throws FragmentRefused. */
  mergeData(fragment: Fragment): unknown {
    const { message_id: id, sum, seq, data } = fragment;
    if (!Number.isInteger(sum) || sum <= 0 || sum > this.limits.maxFragments) throw new FragmentRefused(`sum ${sum} is not 1 to ${this.limits.maxFragments}`);
    if (!Number.isInteger(seq) || seq < 0 || seq >= sum) throw new FragmentRefused(`seq ${seq} is not within sum ${sum}`);
    if (sum === 1) {
      // A push in one frame is held to the same limit as one in many (the SDK sets no limit on a frame's size).
      if (data.byteLength > this.limits.maxPushBytes) throw new FragmentRefused(`the push passes ${this.limits.maxPushBytes} bytes`);
      return parse([data]);
    }
    this.expire();
    let push = this.unfinished.get(id);
    if (push === undefined) {
      if (this.unfinished.size >= this.limits.maxPushes) throw new FragmentRefused(`${this.limits.maxPushes} pushes are already unfinished`);
      push = { parts: new Array<Uint8Array | undefined>(sum), received: 0, bytes: 0, createdAt: this.now() };
    } else if (push.parts.length !== sum) {
      throw new FragmentRefused(`sum ${sum} differs from the first fragment's ${push.parts.length}`);
    }
    const replaced = push.parts[seq]?.byteLength ?? 0;
    const growth = data.byteLength - replaced;
    if (push.bytes + growth > this.limits.maxPushBytes) throw new FragmentRefused(`the push would pass ${this.limits.maxPushBytes} bytes`);
    if (this.heldBytes + growth > this.limits.maxBytes) throw new FragmentRefused(`unfinished pushes would pass ${this.limits.maxBytes} bytes`);
    if (push.parts[seq] === undefined) push.received++;
    push.parts[seq] = data;
    push.bytes += growth;
    this.heldBytes += growth;
    this.unfinished.set(id, push);
    if (push.received < sum) return null;
    this.forget(id, push);
    return parse(push.parts as Uint8Array[]);
  }

  deleteCache(id: string): void {
    const push = this.unfinished.get(id);
    if (push) this.forget(id, push);
  }

  /** The SDK calls this on start to arm its sweep; unfinished pushes expire as fragments arrive instead. */
  clearAtInterval(): void {}

  /** The SDK calls this on close. */
  destroy(): void {
    this.unfinished.clear();
    this.heldBytes = 0;
  }

  /** Oldest first, as the map keeps them: stops at the first push still young. */
  private expire(): void {
    const before = this.now() - this.limits.ttlMs;
    for (const [id, push] of this.unfinished) {
      if (push.createdAt > before) return;
      this.forget(id, push);
    }
  }

  private forget(id: string, push: Unfinished): void {
    this.unfinished.delete(id);
    this.heldBytes -= push.bytes;
  }
}

function parse(parts: Uint8Array[]): unknown {
  return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

/** The limits for pushes of at most `maxPushBytes`, all unfinished ones together at most `maxBytes`. */
export function fragmentLimits(maxPushBytes: number, maxBytes: number): FragmentLimits {
  return { maxFragments: MAX_FRAGMENTS, maxPushBytes, maxBytes, maxPushes: MAX_UNFINISHED_PUSHES, ttlMs: TTL_MS };
}

/**
 * Puts `cache` in the place of the SDK's own (the private field `dataCache` of `WSClient`, which its frame handler
 * calls for every data frame). Checked, so that an SDK whose client no longer has that field stops the start with a
 * sentence rather than running unbounded.
 */
export function installFragmentCache(client: object, cache: FragmentCache): void {
  const holder = client as { dataCache?: { mergeData?: unknown; destroy?: () => void } | undefined };
  if (typeof holder.dataCache?.mergeData !== 'function') {
    throw new Error('this version of @larksuiteoapi/node-sdk keeps no WSClient.dataCache: the bounded fragment cache cannot be installed');
  }
  // Stops the SDK's sweep timer; its cache is never used again.
  holder.dataCache.destroy?.();
  holder.dataCache = cache as unknown as typeof holder.dataCache;
}
