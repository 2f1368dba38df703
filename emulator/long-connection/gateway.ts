import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { EmulatorState } from '../state';
import type { ConnectionDelivery, ConnectionPushOptions, ConnectionPushResult, EmulatedConnection, RawFragment } from '../types';
import { type Frame, Method, decodeFrame, encodeFrame, headerOf } from './frames';

/** The path of the WebSocket URL the endpoint call hands out (real: wss://msg-frontier.feishu.cn/ws/v2?…). */
export const CONNECTION_PATH = '/ws/v2';
/** The `service_id` real URLs carry; the client echoes it in every frame's `service`. */
export const SERVICE_ID = 33554678;
/** Feishu's limit: at most 50 connections per app. */
const MAX_CONNECTIONS = 50;
/** Handshake refusal when over it (`Handshake-Autherrcode`, as the Go SDK reads it). */
const EXCEED_CONN_LIMIT = 1000040350;

interface LiveConnection {
  info: EmulatedConnection;
  socket: WebSocket;
  lastSeq: number;
}

type AckOutcome = Omit<ConnectionDelivery, 'connectionId' | 'elapsedMs'>;

interface PendingAck {
  connection: LiveConnection;
  settle: (outcome: AckOutcome) => void;
}

/**
 * Feishu's side of the long connection: the WebSocket gateway the SDK's `WSClient` dials with the URL from
 * `POST /callback/ws/endpoint`. It answers pings with pongs carrying the ClientConfig, pushes events and callbacks as
 * data frames (split into fragments on request), and reads the client's ack frames. As Feishu does, it gives each push
 * to one connection picked at random, redelivers an event whose ack failed or never came, and never retries a card
 * callback.
 */
export class LongConnectionGateway {
  readonly connections: EmulatedConnection[] = [];
  private readonly live = new Map<string, LiveConnection>();
  private readonly pending = new Map<string, PendingAck>();
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor(private readonly state: EmulatorState) {}

  /** The HTTP server's 'upgrade' handler: admits a WebSocket only with a ticket the endpoint call issued. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname !== CONNECTION_PATH) return refuseHandshake(socket, 404, 'not found');
    const deviceId = url.searchParams.get('device_id') ?? '';
    if (!this.state.redeemConnectionTicket(url.searchParams.get('ticket') ?? '', deviceId)) {
      return refuseHandshake(socket, 403, 'ticket invalid or already used');
    }
    if (this.live.size >= MAX_CONNECTIONS) return refuseHandshake(socket, 514, 'exceed connection limit', EXCEED_CONN_LIMIT);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, deviceId));
  }

  /** Resolves once `count` connections are ready for pushes (the client has pinged: its listener is attached). */
  awaitConnections(count = 1): Promise<void> {
    if (this.readyConnections().length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Cuts connections as a network failure would (no close frame); all of them when no id is given. */
  drop(connectionId?: string): number {
    const victims = [...this.live.values()].filter((c) => connectionId === undefined || c.info.id === connectionId);
    for (const connection of victims) connection.socket.terminate();
    return victims.length;
  }

  async push(payload: object, opts: ConnectionPushOptions = {}): Promise<ConnectionPushResult> {
    const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
    const isCallback = (payload as { header?: { event_type?: unknown } }).header?.event_type === 'card.action.trigger';
    // A callback is synchronous for the person clicking: one try, then Feishu shows an error. An event is retried.
    const delays = isCallback ? [] : this.state.longConnection.redeliveryDelaysMs;
    const deliveries: ConnectionDelivery[] = [];
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) await sleep(delays[attempt - 1]);
      const delivery = await this.deliverOnce(bytes, opts);
      deliveries.push(delivery);
      if (delivery.outcome === 'acked') return { delivered: true, answer: delivery.answer, deliveries };
    }
    return { delivered: false, answer: undefined, deliveries };
  }

  /** Data frames as given, however wrong, with no ack awaited: see `Emulator.sendFragments`. */
  sendFragments(fragments: ReadonlyArray<RawFragment>, opts: { connectionId?: string } = {}): number {
    const targets = this.readyConnections().filter((c) => opts.connectionId === undefined || c.info.id === opts.connectionId);
    for (const connection of targets) {
      for (const fragment of fragments) {
        const headers = [
          { key: 'type', value: 'event' },
          { key: 'message_id', value: fragment.messageId },
          { key: 'sum', value: fragment.sum },
          { key: 'seq', value: fragment.seq },
          { key: 'trace_id', value: randomBytes(8).toString('hex') },
          { key: 'timestamp', value: String(Date.now()) },
        ];
        this.send(connection, Method.data, headers, fragment.payload);
      }
    }
    return targets.length;
  }

  close(): void {
    for (const connection of this.live.values()) connection.socket.terminate();
    this.wss.close();
  }

  private readyConnections(): LiveConnection[] {
    return [...this.live.values()].filter((c) => c.info.pings > 0 && c.socket.readyState === WebSocket.OPEN);
  }

  private open(socket: WebSocket, deviceId: string): void {
    const connection: LiveConnection = { info: { id: deviceId, openedAt: Date.now(), pings: 0, pushes: 0 }, socket, lastSeq: 0 };
    this.connections.push(connection.info);
    this.live.set(deviceId, connection);
    socket.on('message', (data) => this.onFrame(connection, data));
    socket.on('close', () => this.onClose(connection));
    // A reset from the client side surfaces here; 'close' follows and does the bookkeeping.
    socket.on('error', () => undefined);
  }

  private onClose(connection: LiveConnection): void {
    connection.info.closedAt = Date.now();
    this.live.delete(connection.info.id);
    for (const [messageId, pending] of this.pending) {
      if (pending.connection !== connection) continue;
      this.pending.delete(messageId);
      pending.settle({ outcome: 'dropped' });
    }
  }

  private onFrame(connection: LiveConnection, data: RawData): void {
    let frame: Frame;
    try {
      frame = decodeFrame(toBytes(data));
    } catch {
      connection.info.badFrames = (connection.info.badFrames ?? 0) + 1;
      return;
    }
    if (frame.method === Method.control && headerOf(frame, 'type') === 'ping') {
      connection.info.pings++;
      connection.info.service = frame.service;
      this.send(connection, Method.control, [{ key: 'type', value: 'pong' }], Buffer.from(JSON.stringify(this.state.clientConfig())));
      this.wakeWaiters();
      return;
    }
    if (frame.method === Method.data) this.onAck(frame);
  }

  /** The client answers a data frame with the same frame, a `biz_rt` header added, and `{code, data: base64(JSON)}`. */
  private onAck(frame: Frame): void {
    const messageId = headerOf(frame, 'message_id') ?? '';
    const pending = this.pending.get(messageId);
    if (!pending) return; // late: Feishu already gave up on it
    this.pending.delete(messageId);
    try {
      const body = JSON.parse(Buffer.from(frame.payload ?? []).toString('utf8')) as { code?: unknown; data?: unknown };
      const answer = typeof body.data === 'string' ? JSON.parse(Buffer.from(body.data, 'base64').toString('utf8')) : undefined;
      const code = typeof body.code === 'number' ? body.code : undefined;
      pending.settle({ outcome: code === 200 ? 'acked' : 'refused', code, answer });
    } catch {
      pending.settle({ outcome: 'refused' });
    }
  }

  private async deliverOnce(bytes: Buffer, opts: ConnectionPushOptions): Promise<ConnectionDelivery> {
    const candidates = this.readyConnections().filter((c) => opts.connectionId === undefined || c.info.id === opts.connectionId);
    const connection = candidates[Math.floor(Math.random() * candidates.length)];
    if (!connection) return { connectionId: undefined, outcome: 'no-connection', elapsedMs: 0 };
    const messageId = `msg_${randomBytes(8).toString('hex')}`;
    const traceId = randomBytes(8).toString('hex');
    const parts = fragments(bytes, opts.fragments ?? 1);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = new Promise<AckOutcome>((resolve) => {
      this.pending.set(messageId, { connection, settle: resolve });
      timer = setTimeout(() => {
        this.pending.delete(messageId);
        resolve({ outcome: 'timed-out' });
      }, this.state.longConnection.ackTimeoutMs);
    });
    connection.info.pushes++;
    parts.forEach((part, seq) => {
      const headers = [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: messageId },
        { key: 'sum', value: String(parts.length) },
        { key: 'seq', value: String(seq) },
        { key: 'trace_id', value: traceId },
        { key: 'timestamp', value: String(Date.now()) },
      ];
      this.send(connection, Method.data, headers, part);
    });
    const result = await outcome;
    clearTimeout(timer);
    return { connectionId: connection.info.id, ...result, elapsedMs: performance.now() - started };
  }

  private send(connection: LiveConnection, method: number, headers: Frame['headers'], payload: Uint8Array): void {
    const frame: Frame = {
      SeqID: ++connection.lastSeq,
      LogID: Number.parseInt(randomBytes(6).toString('hex'), 16),
      service: SERVICE_ID,
      method,
      headers,
      payload,
    };
    connection.socket.send(encodeFrame(frame));
  }

  private wakeWaiters(): void {
    const ready = this.readyConnections().length;
    for (const waiter of [...this.waiters]) {
      if (ready < waiter.count) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/** Splits at byte offsets, so a fragment may end inside a UTF-8 character: the client must join bytes, not text. */
function fragments(bytes: Buffer, count: number): Buffer[] {
  const n = Math.max(1, Math.min(count, bytes.length));
  const size = Math.ceil(bytes.length / n);
  return Array.from({ length: n }, (_, i) => bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size))).filter((part) => part.length > 0);
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** A refused handshake, with the headers the Go SDK reads to tell a refusal from a network failure. */
function refuseHandshake(socket: Duplex, status: number, message: string, authErrorCode?: number): void {
  const lines = [
    `HTTP/1.1 ${status === 514 ? 403 : status} Refused`,
    `Handshake-Status: ${status}`,
    `Handshake-Msg: ${message}`,
    ...(authErrorCode !== undefined ? [`Handshake-Autherrcode: ${authErrorCode}`] : []),
    'Connection: close',
    'Content-Length: 0',
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n`);
}
