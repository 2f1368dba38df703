import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFunction } from 'node:vm';
import type * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../log';
import { stoppingError, unlessStopped } from './stopping';

/**
 * The SDK client, built the way this bot needs it: its own axios instance (with a timeout, which the SDK's
 * default lacks), its own token cache, and a logger that cannot leak request bodies.
 */

/** Where the SDK fetches the tenant token (self-built apps). */
const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';

interface Fetch {
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The SDK's token cache, made invalidatable (a refused token is dropped and fetched again) and single-flight:
 * when the token is missing, the first caller fetches it and the others wait for that fetch instead of each
 * fetching their own. A fetch that fails releases every waiter at once with its failure (`fetchFailed`, told by the
 * HTTP client, since the SDK never tells a cache), so a refused secret or an unreachable Feishu costs each waiting
 * call one failure, not a wait. The wait is also bounded, and ends when the bot stops.
 */
class TokenCache implements lark.Cache {
  private readonly values = new Map<string, { value: unknown; expiresAt?: number | undefined }>();
  private readonly fetching = new Map<string, Fetch>();

  constructor(
    private readonly waitForFetchMs: number,
    private readonly stopping?: AbortSignal,
  ) {}

  async get(key: string | Symbol, options?: { namespace?: string }) {
    const id = this.keyOf(key, options);
    const cached = this.fresh(id);
    if (cached !== undefined) return cached;
    const inFlight = this.fetching.get(id);
    if (inFlight) {
      let timer: NodeJS.Timeout | undefined;
      const patience = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.waitForFetchMs);
      });
      try {
        await unlessStopped(Promise.race([inFlight.done, patience]), this.stopping, () => stoppingError('tenant token'));
      } finally {
        clearTimeout(timer);
      }
      const fetched = this.fresh(id);
      if (fetched !== undefined) return fetched;
    }
    // This caller fetches; later callers wait on it.
    let resolve: () => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A fetch nobody waits on must not be an unhandled rejection.
    done.catch(() => undefined);
    this.fetching.set(id, { done, resolve, reject });
    return undefined;
  }

  async set(key: string | Symbol, value: unknown, expiresAt?: number, options?: { namespace?: string }) {
    const id = this.keyOf(key, options);
    this.values.set(id, { value, expiresAt });
    this.fetching.get(id)?.resolve();
    this.fetching.delete(id);
    return true;
  }

  /** The token fetch failed: every caller waiting for it fails now, with the same error. */
  fetchFailed(error: unknown): void {
    for (const fetch of this.fetching.values()) fetch.reject(error);
    this.fetching.clear();
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
 * bot's start-up. Both are loaded on first use (by the start-up check, before the bot says it is ready), through `require`,
 * which skips the ESM loader's export scan of the SDK's file.
 */
export function loadOutboundModules(): { lark: Lark; axios: Axios } {
  const require = createRequire(import.meta.url);
  sdk ??= loadSdk(require);
  return { lark: sdk, axios: require('axios') as Axios };
}

let sdk: Lark | undefined;

/**
 * The SDK from the compact copy the build writes beside the bundle (`compactSdk` in scripts/build.mjs, for the SDK's
 * installed version): the package's own code without its comments, about 10 MB less resident than the package's
 * file. It runs with the package's path and a `require` of the package's, so it finds its dependencies as the
 * package does. From the sources (tsx), or where no copy for this version is found, the package's file itself.
 */
function loadSdk(require: NodeRequire): Lark {
  const file = require.resolve('@larksuiteoapi/node-sdk');
  const { version } = require('@larksuiteoapi/node-sdk/package.json') as { version: string };
  const compact = fileURLToPath(new URL(`./lark-sdk-${version}.cjs`, import.meta.url));
  if (!existsSync(compact)) return require(file) as Lark;
  const run = compileFunction(readFileSync(compact, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: compact });
  const module = { exports: {} };
  run(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports as Lark;
}

export interface SdkOptions {
  appId: string;
  appSecret: string;
  domain: string;
  timeoutMs: number;
  logger: Logger;
  /** Aborted when the bot stops: waits for a token fetch end. */
  stopping?: AbortSignal;
  /** Aborted once the bot has given running calls their grace: every request still on the wire is cancelled. */
  requests?: AbortSignal;
}

/** The SDK client, built on first use; the token cache exists from the start so a refusal can always drop it. */
export class LazySdkClient {
  private client: lark.Client | undefined;
  private readonly tokenCache: TokenCache;

  constructor(private readonly options: SdkOptions) {
    this.tokenCache = new TokenCache(options.timeoutMs, options.stopping);
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
    const requests = this.options.requests;
    if (requests) {
      http.interceptors.request.use((config) => {
        config.signal ??= requests;
        return config;
      });
    }
    const isTokenFetch = (url: string | undefined) => url?.endsWith(TOKEN_PATH) === true;
    http.interceptors.response.use(
      (response) => {
        const answer = response.data as { code?: number; msg?: string; tenant_access_token?: string } | undefined;
        if (isTokenFetch(response.config.url) && !answer?.tenant_access_token) {
          // The SDK's own error text; the transport reads Feishu's code from it.
          this.tokenCache.fetchFailed(new Error(`no tenant_access_token: code ${answer?.code}, msg ${answer?.msg}`));
        }
        return response.data;
      },
      (error: { config?: { url?: string } }) => {
        if (isTokenFetch(error.config?.url)) this.tokenCache.fetchFailed(error);
        return Promise.reject(error);
      },
    );
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
