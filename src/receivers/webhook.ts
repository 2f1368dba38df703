import { type Server, createServer as createHttpServer } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import getRawBody from 'raw-body';
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

export interface ServerOptions {
  /** The secrets pushes are checked with; without them (long-connection mode) only /healthz is served. */
  webhook?: { encryptKey: string; verificationToken: string };
  replayWindowMs: number;
  bodyLimitBytes: number;
  logger: Logger;
  now: () => number;
  receive: Receive;
  /** `/healthz`: 200 while the status is ok, 503 otherwise, with each component's detail. */
  health: () => Promise<HealthReport>;
  /** `/metrics`, in Prometheus's text format. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Told of every push answered: its route, outcome (accepted, challenge, refused, failed) and time. */
  observePush?: (route: string, outcome: string, seconds: number) => void;
}

/**
 * A request whose headers, or whose whole body, have not arrived within this long is cut (408): Node's defaults
 * (60 s, 300 s) let a client that trickles bytes hold a socket for minutes. Feishu sends a push at once.
 */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How often Node looks for requests past those limits; a slow request is cut within this much of its deadline. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Listens with the limits above and at most `maxConnections` connections at once (Node drops the rest at accept). */
export function listen(app: Koa, options: { port: number; host: string; maxConnections: number }): Server {
  const server = createHttpServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    app.callback(),
  );
  server.maxConnections = options.maxConnections;
  return server.listen(options.port, options.host);
}

export function createServer(options: ServerOptions): Koa {
  const app = new Koa();
  const router = new Router();
  const log = options.logger.child({ module: 'server' });

  const webhook = (secrets: NonNullable<ServerOptions['webhook']>) => async (ctx: Koa.Context) => {
    ctx.state.route = ctx.path;
    const rawBody = await readBody(ctx, options.bodyLimitBytes);
    const verified = verifyPush({
      rawBody,
      headers: ctx.headers,
      encryptKey: secrets.encryptKey,
      verificationToken: secrets.verificationToken,
      nowMs: options.now(),
      replayWindowMs: options.replayWindowMs,
    });
    if (verified.kind === 'challenge') {
      ctx.state.outcome = 'challenge';
      ctx.body = { challenge: verified.challenge };
      return;
    }
    const event = parseEvent(verified.payload);
    ctx.state.eventId = event.eventId;
    ctx.body = await options.receive(event);
  };

  if (options.webhook) {
    router.post('/webhook/event', webhook(options.webhook));
    router.post('/webhook/card', webhook(options.webhook));
  }
  router.get('/healthz', async (ctx) => {
    const report = await options.health();
    ctx.status = report.status === 'ok' ? 200 : 503;
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

  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } catch (error) {
      const { status, reason, detail } = classify(error);
      ctx.status = status;
      ctx.body = { error: reason };
      const line = { method: ctx.method, path: ctx.path, status, reason: detail ?? reason, eventId: ctx.state.eventId };
      if (status >= 500) log.error({ ...line, err: error }, 'request failed');
      else log.warn(line, 'request refused');
    } finally {
      const route = ctx.state.route as string | undefined;
      if (route !== undefined && options.observePush) {
        const outcome = ctx.status >= 500 ? 'failed' : ctx.status >= 400 ? 'refused' : ((ctx.state.outcome as string | undefined) ?? 'accepted');
        options.observePush(route, outcome, (performance.now() - started) / 1000);
      }
      // Only built when wanted: reading ctx.path parses the URL, on every push.
      if (log.isLevelEnabled('debug')) {
        log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started), eventId: ctx.state.eventId }, 'request');
      }
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa's default prints to stderr; everything already went through the logger above.
  app.on('error', () => undefined);
  return app;
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
 * Reads the raw body once. Only a signed push may be large: an unsigned one can only be a URL challenge, so it is
 * refused as soon as it outgrows one, unread beyond that, and the connection is closed rather than drained.
 */
async function readBody(ctx: Koa.Context, signedLimit: number): Promise<Buffer> {
  const signed = isSigned(ctx.headers);
  try {
    return await getRawBody(ctx.req, { limit: signed ? signedLimit : UNSIGNED_BODY_LIMIT_BYTES, length: ctx.get('content-length') || undefined });
  } catch (error) {
    // raw-body's errors are http-errors: `status` is the one fact of theirs the bot needs.
    if ((error as { status?: number }).status !== 413) throw new PushBodyError(ErrorCode.PushBodyUnreadable, error);
    ctx.set('Connection', 'close');
    if (!signed) throw new FeishuAuthError('unsigned-too-large');
    throw new PushBodyError(ErrorCode.PushBodyTooLarge, error);
  }
}

/** A push's body could not be read whole: the connection broke, or the body outgrew the limit. */
class PushBodyError extends CodedError {
  constructor(
    readonly code: typeof ErrorCode.PushBodyUnreadable | typeof ErrorCode.PushBodyTooLarge,
    cause: unknown,
  ) {
    super(`push body: ${(cause as Error).message}`, { cause });
  }
}

/** The status and body of a failure, and the reason for the log (which says more than the body may). */
function classify(error: unknown): { status: number; reason: string; detail?: string } {
  switch (errorCode(error)) {
    // One answer for every unproven push, whatever is wrong with it: a difference would be an oracle.
    case ErrorCode.PushUnauthenticated:
      return { status: 401, reason: 'unauthenticated', detail: (error as FeishuAuthError).reason };
    case ErrorCode.EventUnrecognised:
      return { status: 400, reason: 'unrecognised event' };
    case ErrorCode.PushBodyUnreadable:
      return { status: 400, reason: 'unreadable body' };
    case ErrorCode.PushBodyTooLarge:
      return { status: 413, reason: 'body too large' };
    default:
      return { status: 500, reason: 'internal error' };
  }
}
