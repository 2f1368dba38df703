import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { authorize } from './api/auth';
import type { Answer, Call } from './api/exchange';
import { Code, FeishuError } from './errors';
import type { FaultBook } from './faults';
import { findRoute } from './routes';
import type { EmulatorState } from './state';

/**
 * The HTTP edge: parse, record, apply faults, authorize, dispatch. Every answer is JSON with an `x-tt-logid`
 * header, and every call is recorded once it is answered (or dropped).
 */
export function createEmulatorServer(state: EmulatorState, faults: FaultBook): Server {
  return createServer((req, res) => {
    serve(req, res, state, faults).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
}

async function serve(req: IncomingMessage, res: ServerResponse, state: EmulatorState, faults: FaultBook) {
  const seq = state.nextSeq();
  const at = state.now();
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://emulator');
  state.arrivals.push({ method, path: url.pathname });
  const query = Object.fromEntries(url.searchParams);
  const raw = await readBody(req);
  const body = parseJson(raw);
  const fault = faults.take(method, url.pathname);
  const record = (status: number, response: unknown) =>
    state.calls.push({ seq, method, path: url.pathname, query, body: body.value, status, response, at, ...(fault && { fault: fault.kind }) });

  if (fault && fault.delayMs > 0) await sleep(fault.delayMs);
  if (fault?.kind === 'delay') await fault.until;
  if (fault?.kind === 'drop') {
    record(0, undefined);
    res.socket?.destroy();
    return;
  }
  const logId = newLogId();
  const call: Call = { method, path: url.pathname, params: {}, query, body: body.value, headers: req.headers };
  const answer: Answer =
    fault?.kind === 'answer' ? { status: fault.status, body: fault.body as object, headers: fault.headers } : handle(call, body.ok, state, logId);
  const status = answer.status ?? 200;
  record(status, answer.body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'x-tt-logid': logId,
    ...answer.headers,
  });
  res.end(JSON.stringify(answer.body));
}

function handle(call: Call, bodyIsJson: boolean, state: EmulatorState, logId: string): Answer {
  try {
    if (!bodyIsJson) throw new FeishuError(400, Code.malformedRequest, 'Bad Request: the body is not valid JSON');
    const route = findRoute(call.method, call.path);
    if (!route) return { status: 404, body: { code: 404, msg: 'not found' } };
    if (!route.open) authorize(headerValue(call.headers.authorization), state);
    return route.handler({ ...call, params: route.params }, state);
  } catch (error) {
    if (error instanceof FeishuError) {
      return {
        status: error.status,
        body: { code: error.code, msg: error.message, error: { log_id: logId, ...error.detail } },
        headers: error.headers,
      };
    }
    // A bug in the emulator itself: say so loudly rather than pass for a Feishu answer.
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { status: 500, body: { code: -1, msg: `emulator bug: ${message}` } };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An empty body is fine (GET, DELETE); anything else must be JSON, but is recorded either way. */
function parseJson(raw: string): { ok: boolean; value: unknown } {
  if (raw.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, value: raw };
  }
}

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function newLogId(): string {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  return `${stamp}${randomBytes(10).toString('hex').toUpperCase()}`;
}
