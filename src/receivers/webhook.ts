import { type IncomingMessage, type RequestListener, type Server, type ServerResponse, createServer as createHttpServer } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { CodedError, ErrorCode, errorCode } from '../errors';
import { parseEvent } from '../feishu/events';
import { FeishuAuthError, UNSIGNED_BODY_LIMIT_BYTES, isSigned, verifyPush } from '../feishu/verify';
import type { HealthReport } from '../health';
import type { Logger } from '../log';
import type { Receive, Receiver } from './receiver';

/**
 * The HTTP edge: routes, the body limit, and the mapping of every failure to a status. No business logic:
 * a push is verified, parsed and handed to `receive`, whose answer is the response body.
 */

/** The routes pushes arrive at, by name: the only values a push's metric label takes, whatever URL was typed. */
export const PUSH_ROUTES = { event: '/webhook/event', card: '/webhook/card' } as const;
export type PushRoute = keyof typeof PUSH_ROUTES;

export interface ServerOptions {
  /** The secrets pushes are checked with; without them (long-connection mode) only /healthz is served. */
  webhook?: { encryptKey: string; verificationToken: string } | undefined;
  replayWindowMs: number;
  bodyLimitBytes: number;
  /** Body bytes all requests together may be reading at once; a request that would pass it is answered 503 unread. */
  bodyBudgetBytes: number;
  logger: Logger;
  now: () => number;
  receive: Receive;
  /** `/healthz`: 200 while the status is ok or degraded, 503 otherwise, with each component's detail. */
  health: () => Promise<HealthReport>;
  /** `/metrics`, in Prometheus's text format. */
  metrics?: (() => Promise<{ contentType: string; body: string }>) | undefined;
  /** Told of every push answered: its route, outcome (accepted, challenge, refused, busy, failed) and time. */
  observePush?: ((route: PushRoute, outcome: string, seconds: number) => void) | undefined;
}

/** How often Node looks for requests past their timeout; a slow request is cut within this much of its deadline. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Listens with at most `maxConnections` connections at once (Node drops the rest at accept), cutting (408) a request
 * whose headers, or whose whole body, have not arrived within `requestTimeoutMs`: Node's defaults (60 s, 300 s) let a
 * client that trickles bytes hold a socket for minutes. Feishu sends a push at once.
 */
export function listen(handler: RequestListener, options: { port: number; host: string; maxConnections: number; requestTimeoutMs: number }): Server {
  const server = createHttpServer(
    { requestTimeout: options.requestTimeoutMs, headersTimeout: options.requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    handler,
  );
  server.maxConnections = options.maxConnections;
  return server.listen(options.port, options.host);
}

/**
 * The bot's HTTP handler. The two push routes are answered here, at the `http` layer, and Koa serves everything else
 * (`/healthz`, `/metrics`, every other URL's 404). A push is nearly all the traffic and needs none of Koa: no
 * routing beyond two exact paths, no cookies, no content negotiation; Koa's per-request context, its getters and its
 * response handling were a third of a push's CPU (docs/architecture.md, "Pushes are answered before Koa").
 */
export function createServer(options: ServerOptions): RequestListener {
  const koa = createKoa(options);
  if (!options.webhook) return koa.callback();
  const pushes = pushHandler(options, options.webhook);
  const rest = koa.callback();
  return (req, res) => {
    if (!pushes(req, res)) void rest(req, res);
  };
}

/** Everything but the pushes: health, metrics, and a 404 for any other URL. */
function createKoa(options: ServerOptions): Koa {
  const app = new Koa();
  const router = new Router({ strict: true, sensitive: true });
  router.get('/healthz', async (ctx) => {
    const report = await options.health();
    ctx.status = report.status === 'ok' || report.status === 'degraded' ? 200 : 503;
    ctx.body = report;
  });
  const metrics = options.metrics;
  if (metrics) {
    router.get('/metrics', async (ctx) => {
      const { contentType, body } = await metrics();
      ctx.type = contentType;
      ctx.body = body;
    });
  }
  const log = options.logger.child({ module: 'server' });
  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } catch (error) {
      const { status, reason, detail } = classify(error);
      ctx.status = status;
      ctx.body = { error: reason };
      log.error({ method: ctx.method, path: ctx.path, status, reason: detail ?? reason, err: error }, 'request failed');
    } finally {
      if (log.isLevelEnabled('debug'))
        log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa's default prints to stderr; everything already went through the logger above.
  app.on('error', () => undefined);
  return app;
}

/** The push routes by their exact path (Feishu POSTs to the URL exactly as configured; a query string may follow). */
const ROUTE_OF_PATH = new Map<string, PushRoute>(Object.entries(PUSH_ROUTES).map(([route, path]) => [path, route as PushRoute]));

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Serves a request when its path is one of the push routes, exactly (`/WEBHOOK/event` and `/webhook/event/` are
 * 404s from Koa, not pushes to verify, and not new metric series); returns false for any other path. A push is
 * read within the body limits, verified, parsed and handed to `receive`, whose answer is the response body; every
 * failure becomes a status here, and every push answered is observed with its route and outcome.
 */
function pushHandler(options: ServerOptions, secrets: NonNullable<ServerOptions['webhook']>): (req: IncomingMessage, res: ServerResponse) => boolean {
  const log = options.logger.child({ module: 'server' });
  const budget = new BodyBudget(options.bodyBudgetBytes);

  /**
   * Reads, verifies, parses and answers a push. Callbacks, not `await`: a push the bot answers at once (chatter, a
   * challenge, a refusal) is answered in the turn its last body byte arrived, and only an answer that waits on the
   * store goes through a promise. Each `await` of the former chain was a hop through the microtask queue with its
   * promises to collect, 5 µs of a chatter push's CPU all told (bench/README.md, "The chatter path without awaits,
   * push metrics in batches").
   */
  const serve = (req: IncomingMessage, res: ServerResponse, route: PushRoute): void => {
    const started = performance.now();
    let eventId: string | undefined;
    const answer = (outcome: string, body: unknown): void => {
      send(res, 200, body);
      observe(req, route, 200, outcome, started, eventId);
    };
    const refuse = (error: unknown): void => {
      const refusal = classify(error);
      const status = refusal.status;
      // A body left unread is not drained: the connection goes with the answer.
      if (refusal.unread && !res.headersSent) res.setHeader('Connection', 'close');
      if (status === 503 && !res.headersSent) res.setHeader('Retry-After', '1');
      send(res, status, { error: refusal.reason });
      const line = { method: req.method, path: req.url, status, reason: refusal.detail ?? refusal.reason, eventId };
      if (status >= 500 && status !== 503) log.error({ ...line, err: error }, 'request failed');
      else log.warn(line, 'request refused');
      observe(req, route, status, status === 503 ? 'busy' : status >= 500 ? 'failed' : 'refused', started, eventId);
    };
    readBody(req, options.bodyLimitBytes, budget, (rawBody) =>
      guarded(res, () => {
        if (rawBody instanceof Error) return refuse(rawBody);
        let answered: ReturnType<Receive>;
        try {
          const verified = verifyPush({
            rawBody,
            headers: req.headers,
            encryptKey: secrets.encryptKey,
            verificationToken: secrets.verificationToken,
            nowMs: options.now(),
            replayWindowMs: options.replayWindowMs,
          });
          if (verified.kind === 'challenge') return answer('challenge', { challenge: verified.challenge });
          const event = parseEvent(verified.payload);
          eventId = event.eventId;
          answered = options.receive(event);
        } catch (failure) {
          return refuse(failure);
        }
        if (answered instanceof Promise)
          answered.then(
            (body) => guarded(res, () => answer('accepted', body)),
            (failure: unknown) => guarded(res, () => refuse(failure)),
          );
        else answer('accepted', answered);
      }),
    );
  };

  /** Every push answered is observed with its route and outcome, and logged at debug level. */
  const observe = (req: IncomingMessage, route: PushRoute, status: number, outcome: string, started: number, eventId: string | undefined): void => {
    options.observePush?.(route, outcome, (performance.now() - started) / 1000);
    if (log.isLevelEnabled('debug')) {
      log.debug({ method: req.method, path: req.url, status, ms: Math.round(performance.now() - started), eventId }, 'request');
    }
  };

  /** Only a throwing logger or observer gets past `serve`'s own handling: the answer went already, or goes now. */
  const guarded = (res: ServerResponse, step: () => void): void => {
    try {
      step();
    } catch (error) {
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      log.error({ err: error }, 'push handling failed');
    }
  };

  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const route = ROUTE_OF_PATH.get(query === -1 ? url : url.slice(0, query));
    if (route === undefined) return false;
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method Not Allowed');
      return true;
    }
    serve(req, res, route);
    return true;
  };
}

/** A JSON answer, as Koa would have sent it (unless the socket is gone). */
function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(body ?? {});
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

/**
 * The webhook as a receiver. Its pushes arrive at the routes above, so it is open for as long as the HTTP server
 * listens, and stopping that server (app.ts) is what stops them: start and stop have nothing left to do.
 */
export function webhookReceiver(now: () => number): Receiver {
  const since = new Date(now()).toISOString();
  return {
    start: async () => undefined,
    stop: async () => undefined,
    health: () => ({ transport: 'webhook', state: 'open', since, reconnects: 0 }),
  };
}

/**
 * The body bytes being read by all requests together, so that many large bodies at once cannot take the process's
 * memory: signature headers cost nothing to make up, and a body is buffered before its signature can be checked.
 * A request holds the bytes of its body that have arrived, not what it claims: one that sends its headers and no
 * body holds nothing, so idle requests cannot keep real pushes out.
 */
class BodyBudget {
  private inFlight = 0;
  constructor(private readonly capacity: number) {}

  /** Whether `bytes` more would fit now; nothing is taken. */
  fits(bytes: number): boolean {
    return this.inFlight + bytes <= this.capacity;
  }

  take(bytes: number): boolean {
    if (!this.fits(bytes)) return false;
    this.inFlight += bytes;
    return true;
  }

  give(bytes: number): void {
    this.inFlight -= bytes;
  }
}

/**
 * Reads the raw body once, then hands `done` the body or the error saying why not. Only a signed push may be
 * large: an unsigned one can only be a URL challenge, so it is refused as soon as it outgrows one, unread beyond
 * that (the refusal then closes the connection rather than drain it, see `classify`'s `unread`). A body whose
 * Content-Length passes its limit, or could not fit in the budget now, is refused unread; any other is refused once
 * its next chunk would pass either.
 *
 * Read here, not by raw-body: the budget has to see every chunk as it arrives anyway, and keeping the chunk is one
 * line more, where raw-body's five listeners to add and remove per request, its async resource and its copy of a
 * one-chunk body were about 4 µs of a push's CPU (bench/README.md, "The body read where the budget counts it").
 */
function readBody(req: IncomingMessage, signedLimit: number, budget: BodyBudget, done: (rawBody: Buffer | Error) => void): void {
  const signed = isSigned(req.headers);
  const limit = signed ? signedLimit : UNSIGNED_BODY_LIMIT_BYTES;
  // Node's parser has refused any Content-Length that is not a number before the request gets here.
  const declared = req.headers['content-length'] || undefined;
  const length = declared === undefined ? undefined : Number(declared);
  const tooLarge = () => (signed ? new PushBodyError(ErrorCode.PushBodyTooLarge, new Error('body too large')) : new FeishuAuthError('unsigned-too-large'));
  const spent = () => new PushBodyError(ErrorCode.PushBodyBudgetSpent, new Error('body budget spent'));
  if (length !== undefined && length > limit) return done(tooLarge());
  if (length !== undefined && !budget.fits(length)) return done(spent());
  const chunks: Buffer[] = [];
  let held = 0;
  const finish = (result: Buffer | Error) => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    budget.give(held);
    // What more arrives of a refused body is left unread: the refusal closes the connection.
    if (result instanceof Error) req.pause();
    done(result);
  };
  const onData = (chunk: Buffer) => {
    if (held + chunk.length > limit) return finish(tooLarge());
    if (!budget.take(chunk.length)) return finish(spent());
    held += chunk.length;
    chunks.push(chunk);
  };
  // Node's parser ends a body at its Content-Length: one that ends has the length it declared.
  const onEnd = () => finish(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, held));
  // A request cut off before its end (the client gone) is an error of its own: `aborted`, ECONNRESET.
  const onError = (error: Error) => finish(unreadable(error));
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

const unreadable = (cause: Error) => new PushBodyError(ErrorCode.PushBodyUnreadable, cause);

/** A push's body was not read whole: the connection broke, it outgrew the limit, or the bytes in flight did. */
class PushBodyError extends CodedError {
  constructor(
    readonly code: typeof ErrorCode.PushBodyUnreadable | typeof ErrorCode.PushBodyTooLarge | typeof ErrorCode.PushBodyBudgetSpent,
    cause: unknown,
  ) {
    super(`push body: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The status and body of a failure, the reason for the log (which says more than the body may), and whether the body
 * was left unread (too large, or over the budget of bytes in flight).
 */
function classify(error: unknown): { status: number; reason: string; detail?: string; unread?: boolean } {
  switch (errorCode(error)) {
    // One answer for every unproven push, whatever is wrong with it: a difference would be an oracle.
    case ErrorCode.PushUnauthenticated: {
      const reason = (error as FeishuAuthError).reason;
      return { status: 401, reason: 'unauthenticated', detail: reason, unread: reason === 'unsigned-too-large' };
    }
    case ErrorCode.EventUnrecognised:
      return { status: 400, reason: 'unrecognised event' };
    case ErrorCode.PushBodyUnreadable:
      return { status: 400, reason: 'unreadable body' };
    case ErrorCode.PushBodyTooLarge:
      return { status: 413, reason: 'body too large', unread: true };
    case ErrorCode.PushBodyBudgetSpent:
      return { status: 503, reason: 'busy', unread: true };
    default:
      return { status: 500, reason: 'internal error' };
  }
}
