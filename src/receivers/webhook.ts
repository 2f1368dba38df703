import Router from '@koa/router';
import Koa from 'koa';
import getRawBody from 'raw-body';
import type { CardActionAnswer, FeishuEvent } from '../feishu/events';
import { EventShapeError, parseEvent } from '../feishu/events';
import { FeishuAuthError, verifyPush } from '../feishu/verify';
import type { HealthReport } from '../health';
import type { Logger } from '../log';

/**
 * The HTTP edge: routes, the body limit, and the mapping of every failure to a status. No business logic:
 * a push is verified, parsed and handed to `receive`, whose answer is the response body.
 */

export interface ServerOptions {
  encryptKey: string;
  verificationToken: string;
  replayWindowMs: number;
  bodyLimitBytes: number;
  logger: Logger;
  now: () => number;
  receive: (event: FeishuEvent) => Promise<CardActionAnswer>;
  /** `/healthz`: 200 while the status is ok, 503 otherwise, with each component's detail. */
  health: () => HealthReport;
  /** `/metrics`, in Prometheus's text format. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Told of every push answered: its route, outcome (accepted, challenge, refused, failed) and time. */
  observePush?: (route: string, outcome: string, seconds: number) => void;
}

export function createServer(options: ServerOptions): Koa {
  const app = new Koa();
  const router = new Router();
  const log = options.logger.child({ module: 'server' });

  const webhook = async (ctx: Koa.Context) => {
    ctx.state.route = ctx.path;
    const rawBody = await readBody(ctx, options.bodyLimitBytes);
    const verified = verifyPush({
      rawBody,
      headers: ctx.headers,
      encryptKey: options.encryptKey,
      verificationToken: options.verificationToken,
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

  router.post('/webhook/event', webhook);
  router.post('/webhook/card', webhook);
  router.get('/healthz', (ctx) => {
    const report = options.health();
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
      const { status, reason } = classify(error);
      ctx.status = status;
      ctx.body = { error: reason };
      const line = { method: ctx.method, path: ctx.path, status, reason, eventId: ctx.state.eventId };
      if (status >= 500) log.error({ ...line, err: (error as Error).message }, 'request failed');
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

async function readBody(ctx: Koa.Context, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined });
  } catch (error) {
    const status = (error as { status?: number }).status;
    throw Object.assign(new Error((error as Error).message), { status: status === 413 ? 413 : 400, reason: status === 413 ? 'body too large' : 'unreadable body' });
  }
}

function classify(error: unknown): { status: number; reason: string } {
  if (error instanceof FeishuAuthError) return { status: error.status, reason: error.reason };
  if (error instanceof EventShapeError) return { status: 400, reason: 'unrecognised event' };
  const tagged = error as { status?: number; reason?: string };
  if (typeof tagged.status === 'number' && tagged.status >= 400 && tagged.status < 500) {
    return { status: tagged.status, reason: tagged.reason ?? 'bad request' };
  }
  return { status: 500, reason: 'internal error' };
}
