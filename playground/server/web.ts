import Router from '@koa/router';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { z } from 'zod';
import type { Emulator } from '../../emulator';
import type { PageBundle } from './bundle';
import type { PlaygroundClock } from './clock';
import type { FeishuClients } from './feishu-clients';
import { SQUAD } from './squad';
import { chatsOf, isVisibleTo, viewFor } from './view';

/**
 * The page and the small API it calls: one person's view of one of their chats, sending a message there, clicking a card, moving the
 * clock. It listens on loopback only and takes requests only from its own page (see `sameSiteOnly`), since it can
 * make the emulator push signed events to the bot.
 */

export interface WebOptions {
  bundle: PageBundle;
  emu: Emulator;
  clients: FeishuClients;
  clock: PlaygroundClock;
  /** After the clock moved: make the bot look at it, and resolve once it has done what came due. */
  catchUp: () => Promise<void>;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${SQUAD.name} · To-do bot playground</title>
<link rel="stylesheet" href="/app.css">
<link rel="icon" href="data:,">
</head>
<body>
<div id="app"></div>
<script type="module" src="/app.js"></script>
</body>
</html>
`;

/** Card text is written by whoever talks to the bot: even if something slipped past the renderer, it could not run. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const member = z.string().refine((id) => SQUAD.people.some((p) => p.openId === id), 'one of the chat members');
const SayBody = z.object({
  sender: member,
  /** Default: the ordinary group. */
  chatId: z.string().min(1).optional(),
  text: z.string().trim().min(1).max(4000),
  parentId: z.string().min(1).optional(),
});
const ClickBody = z.object({
  operator: member,
  messageId: z.string().min(1),
  click: z.object({
    tag: z.string().min(1),
    name: z.string().optional(),
    value: z.record(z.string(), z.unknown()).optional(),
    formValue: z.record(z.string(), z.unknown()).optional(),
  }),
});
const TaskBody = z.object({ userId: member, guid: z.string().min(1).max(100), change: z.enum(['complete', 'reopen']) });
const ClockBody = z.object({
  minutes: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 60),
});
const MAX_BODY = '64kb';

export function createWebServer(o: WebOptions): Koa {
  const app = new Koa();
  const router = new Router();

  router.get('/', (ctx) => {
    ctx.set('content-security-policy', CONTENT_SECURITY_POLICY);
    ctx.type = 'html';
    ctx.body = PAGE;
  });
  router.get('/app.js', (ctx) => {
    ctx.type = 'text/javascript';
    ctx.body = o.bundle.js;
  });
  router.get('/app.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.body = o.bundle.css;
  });

  router.get('/api/state', (ctx) => {
    const viewer = member.safeParse(ctx.query.viewer ?? SQUAD.people[0]?.openId);
    if (!viewer.success) return ctx.throw(400, 'viewer: one of the chat members');
    // `direct`: the viewer's own chat with the bot, whoever the viewer is.
    const asked = typeof ctx.query.chat === 'string' ? ctx.query.chat : SQUAD.chatId;
    const chatId = asked === 'direct' ? o.emu.directChatId(viewer.data) : asked;
    if (!isChatOf(o.emu, chatId, viewer.data)) return ctx.throw(404, 'no such chat');
    ctx.body = viewFor(o.emu, viewer.data, chatId, o.clock.now());
  });

  router.post('/api/messages', async (ctx) => {
    const body = await readJson(ctx, SayBody);
    const chatId = body.chatId ?? SQUAD.chatId;
    if (!isChatOf(o.emu, chatId, body.sender)) ctx.throw(404, 'no such chat');
    if (body.parentId !== undefined && visibleMessage(o.emu, body.parentId, body.sender)?.chatId !== chatId) ctx.throw(404, 'no such message');
    ctx.body = await o.clients.say(body.sender, chatId, body.text, body.parentId);
  });

  router.post('/api/actions', async (ctx) => {
    const body = await readJson(ctx, ClickBody);
    const message = visibleMessage(o.emu, body.messageId, body.operator);
    if (!message || message.recalled || message.msgType !== 'interactive') return ctx.throw(404, 'no such card');
    ctx.body = await o.clients.click(body.operator, message, body.click);
  });

  router.post('/api/tasks', async (ctx) => {
    const body = await readJson(ctx, TaskBody);
    const task = o.emu.tasks.get(body.guid);
    // Only a task in the person's own Feishu Task list, still there.
    if (!task || task.deleted || !task.members.some((m) => m.id === body.userId)) return ctx.throw(404, 'no such task');
    ctx.body = await o.clients.changeTask(body);
  });

  router.post('/api/clock', async (ctx) => {
    const body = await readJson(ctx, ClockBody);
    o.clock.advance(body.minutes * 60_000);
    await o.catchUp();
    ctx.body = { now: o.clock.now() };
  });

  app.use(sameSiteOnly);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function visibleMessage(emu: Emulator, messageId: string, viewer: string) {
  const message = emu.messages.get(messageId);
  return message && isVisibleTo(emu, message, viewer) ? message : undefined;
}

const isChatOf = (emu: Emulator, chatId: string, person: string) => chatsOf(emu, person).some((chat) => chat.id === chatId);

/**
 * Requests must name this server by its loopback address (no DNS rebinding), and writes must be JSON from this page:
 * a JSON body makes a browser ask before sending it from another site, and a foreign Origin is refused outright.
 */
async function sameSiteOnly(ctx: Koa.Context, next: Koa.Next) {
  const port = ctx.req.socket.localPort;
  if (ctx.host !== `127.0.0.1:${port}` && ctx.host !== `localhost:${port}`) ctx.throw(403, 'use the address the playground printed');
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    const origin = ctx.get('origin');
    if (origin !== '' && origin !== `http://${ctx.host}`) ctx.throw(403, 'requests from other sites are refused');
    if (!ctx.is('application/json')) ctx.throw(415, 'send JSON');
  }
  ctx.set('x-content-type-options', 'nosniff');
  await next();
}

async function readJson<T>(ctx: Koa.Context, schema: z.ZodType<T>): Promise<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await getRawBody(ctx.req, { limit: MAX_BODY, encoding: 'utf8' }));
  } catch (error) {
    ctx.throw((error as { status?: number }).status === 413 ? 413 : 400, 'the body must be JSON');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    ctx.throw(400, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
