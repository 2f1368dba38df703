import { createRequire } from 'node:module';
import type * as lark from '@larksuiteoapi/node-sdk';
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

/**
 * One line from what the SDK logs. It logs whole axios errors, which carry request bodies (the app secret among
 * them), so only messages are kept; and its LoggerProxy hands the arguments over as one array, hence the flat().
 */
export const sdkLogLine = (args: unknown[]) =>
  args
    .flat()
    .map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : ''))
    .join(' ')
    .trim();

function sdkLogger(logger: Logger): lark.Logger {
  return {
    error: (...args) => logger.debug({ sdk: sdkLogLine(args) }, 'sdk error'),
    warn: (...args) => logger.debug({ sdk: sdkLogLine(args) }, 'sdk warning'),
    info: () => undefined,
    debug: () => undefined,
    trace: () => undefined,
  };
}

type Lark = typeof import('@larksuiteoapi/node-sdk');
type Axios = typeof import('axios').default;

/**
 * The SDK is six megabytes of JavaScript, about 0.4 s to load, and axios another 0.2 s: more than the rest of the
 * bot's start-up. Both are loaded on first use (and warmed right after the server listens), through `require`,
 * which skips the ESM loader's export scan of the SDK's file.
 */
export function loadOutboundModules(): { lark: Lark; axios: Axios } {
  const require = createRequire(import.meta.url);
  return { lark: require('@larksuiteoapi/node-sdk') as Lark, axios: require('axios') as Axios };
}

export interface SdkOptions {
  appId: string;
  appSecret: string;
  domain: string;
  timeoutMs: number;
  logger: Logger;
}

/** The SDK client, built on first use; the token cache exists from the start so a refusal can always drop it. */
export class LazySdkClient {
  private client: lark.Client | undefined;
  private readonly tokenCache: TokenCache;

  constructor(private readonly options: SdkOptions) {
    this.tokenCache = new TokenCache(options.timeoutMs);
  }

  get(): lark.Client {
    this.client ??= this.build();
    return this.client;
  }

  invalidateToken(): void {
    this.tokenCache.clear();
  }

  private build(): lark.Client {
    const { lark: sdk, axios } = loadOutboundModules();
    const http = axios.create({ timeout: this.options.timeoutMs });
    http.interceptors.response.use((response) => response.data);
    return new sdk.Client({
      appId: this.options.appId,
      appSecret: this.options.appSecret,
      domain: this.options.domain,
      appType: sdk.AppType.SelfBuild,
      cache: this.tokenCache,
      httpInstance: http as unknown as lark.HttpInstance,
      logger: sdkLogger(this.options.logger),
      loggerLevel: sdk.LoggerLevel.warn,
    });
  }
}
