import * as lark from '@larksuiteoapi/node-sdk';
import axios from 'axios';
import type { Logger } from '../log';

/**
 * The SDK client, built the way this bot needs it: its own axios instance (with a timeout, which the SDK's
 * default lacks), its own token cache, and a logger that cannot leak request bodies.
 */

/**
 * The SDK's token cache, made invalidatable (a refused token is dropped and fetched again) and single-flight:
 * when the token is missing, the first caller fetches it and the others wait for that fetch instead of each
 * fetching their own. A fetch that fails never calls `set`, so waiters give up after a while and fetch themselves.
 */
class TokenCache implements lark.Cache {
  private readonly values = new Map<string, { value: unknown; expiresAt?: number }>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly release = new Map<string, () => void>();

  constructor(private readonly waitForFetchMs: number) {}

  async get(key: string | Symbol, options?: { namespace?: string }) {
    const id = this.keyOf(key, options);
    const cached = this.fresh(id);
    if (cached !== undefined) return cached;
    const inFlight = this.fetching.get(id);
    if (inFlight) {
      await Promise.race([inFlight, new Promise((resolve) => setTimeout(resolve, this.waitForFetchMs).unref())]);
      const fetched = this.fresh(id);
      if (fetched !== undefined) return fetched;
    }
    // This caller fetches; later callers wait on it.
    this.fetching.set(id, new Promise<void>((resolve) => this.release.set(id, resolve)));
    return undefined;
  }

  async set(key: string | Symbol, value: unknown, expiresAt?: number, options?: { namespace?: string }) {
    const id = this.keyOf(key, options);
    this.values.set(id, { value, expiresAt });
    this.release.get(id)?.();
    this.release.delete(id);
    this.fetching.delete(id);
    return true;
  }

  clear(): void {
    this.values.clear();
  }

  private fresh(id: string): unknown {
    const entry = this.values.get(id);
    if (!entry || (entry.expiresAt !== undefined && entry.expiresAt <= Date.now())) return undefined;
    return entry.value;
  }

  private keyOf(key: string | Symbol, options?: { namespace?: string }) {
    return `${options?.namespace ?? ''}/${key.toString()}`;
  }
}

/** The SDK logs whole axios errors, which carry request bodies (the app secret among them); keep only messages. */
function sdkLogger(logger: Logger): lark.Logger {
  const summary = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : '')).join(' ').trim();
  return {
    error: (...args) => logger.debug({ sdk: summary(args) }, 'sdk error'),
    warn: (...args) => logger.debug({ sdk: summary(args) }, 'sdk warning'),
    info: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
  };
}

export function createSdkClient(options: { appId: string; appSecret: string; domain: string; timeoutMs: number; logger: Logger }) {
  const tokenCache = new TokenCache(options.timeoutMs);
  const http = axios.create({ timeout: options.timeoutMs });
  http.interceptors.response.use((response) => response.data);
  const sdk = new lark.Client({
    appId: options.appId,
    appSecret: options.appSecret,
    domain: options.domain,
    appType: lark.AppType.SelfBuild,
    cache: tokenCache,
    httpInstance: http as unknown as lark.HttpInstance,
    logger: sdkLogger(options.logger),
    loggerLevel: lark.LoggerLevel.warn,
  });
  return { sdk, invalidateToken: () => tokenCache.clear() };
}
