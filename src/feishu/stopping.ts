import { FeishuNetworkError } from './errors';

/**
 * What every wait of the Feishu client turns into when the bot stops: a network-style failure, which the outbox
 * treats as transient, so the job it interrupts stays stored as pending with every finished step kept.
 */
export function stoppingError(method: string): FeishuNetworkError {
  return new FeishuNetworkError(method, 'the bot is stopping');
}

/** Settles like `work`, or rejects with `onStop()` as soon as `signal` aborts; leaves no listener behind. */
export async function unlessStopped<T>(work: Promise<T>, signal: AbortSignal | undefined, onStop: () => Error): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) throw onStop();
  let listener: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    listener = () => reject(onStop());
    signal.addEventListener('abort', listener, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    signal.removeEventListener('abort', listener as () => void);
  }
}
