import type { Server } from 'node:http';
import { type FaultBook, pathMatches } from './faults';
import type { LongConnectionGateway } from './long-connection/gateway';
import { composePush, deliver } from './push';
import type { EmulatorState } from './state';
import type {
  ConnectionPushOptions,
  ConnectionPushResult,
  Delivery,
  EmulatedChat,
  EmulatedConnection,
  EmulatedFeedCard,
  EmulatedMessage,
  Emulator,
  FaultRule,
  PushOptions,
  PushResult,
  RawFragment,
  RecordedCall,
} from './types';

/** The face a test holds: the state's maps themselves (never copies), plus controls over faults and lifetime. */
export class RunningEmulator implements Emulator {
  readonly calls: RecordedCall[];
  readonly messages: Map<string, EmulatedMessage>;
  readonly feedCards: Map<string, EmulatedFeedCard>;
  readonly chats: Map<string, EmulatedChat>;
  readonly deliveries: Delivery[] = [];
  readonly connections: EmulatedConnection[];
  readonly timeZones: Map<string, string>;

  constructor(
    readonly url: string,
    private readonly state: EmulatorState,
    private readonly faults: FaultBook,
    private readonly server: Server,
    private readonly gateway: LongConnectionGateway,
  ) {
    this.calls = state.calls;
    this.messages = state.messages;
    this.feedCards = state.feedCards;
    this.chats = state.chats;
    this.connections = gateway.connections;
    this.timeZones = state.timeZones;
  }

  setContactScope(granted: boolean): void {
    this.state.contactScopeGranted = granted;
  }

  get rateLimitRejections(): number {
    return this.state.rateLimitRejections;
  }

  callsTo(method: string, path: string | RegExp): RecordedCall[] {
    return this.calls.filter((call) => call.method === method.toUpperCase() && pathMatches(path, call.path));
  }

  successfulCallsTo(method: string, path: string | RegExp): RecordedCall[] {
    return this.callsTo(method, path).filter((call) => call.status === 200 && call.response?.code === 0);
  }

  arrivedCalls(method: string, path: string | RegExp): number {
    return this.state.arrivals.filter((call) => call.method === method.toUpperCase() && pathMatches(path, call.path)).length;
  }

  fault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  addExternalMessage(m: { chatId: string; senderId: string; text: string; parentId?: string }): string {
    if (!this.chats.has(m.chatId)) throw new Error(`addExternalMessage: no chat ${m.chatId} in the emulator`);
    const messageId = this.state.nextMessageId('other');
    this.state.store({
      messageId,
      chatId: m.chatId,
      kind: m.parentId === undefined ? 'message' : 'reply',
      ...(m.parentId !== undefined && { parentId: m.parentId }),
      msgType: 'text',
      content: { text: m.text },
      recalled: false,
      deleted: false,
      updates: [],
      senderId: m.senderId,
      createdAt: this.state.now(),
    });
    return messageId;
  }

  revokeTokens(): void {
    this.state.revokeTokens();
  }

  reset(): void {
    this.state.reset();
    this.faults.clear();
    this.deliveries.length = 0;
  }

  close(): Promise<void> {
    // Upgraded sockets are no longer the HTTP server's: closing it would wait for them forever.
    this.gateway.close();
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  push(target: string, payload: object, opts: PushOptions = {}): Promise<PushResult> {
    const delivery = composePush(target, payload, opts);
    this.deliveries.push(delivery);
    return deliver(delivery);
  }

  redeliver(delivery: Delivery, opts: { to?: string } = {}): Promise<PushResult> {
    const again = { ...delivery, target: opts.to ?? delivery.target };
    this.deliveries.push(again);
    return deliver(again);
  }

  awaitConnections(count = 1): Promise<void> {
    return this.gateway.awaitConnections(count);
  }

  pushOverConnection(payload: object, opts: ConnectionPushOptions = {}): Promise<ConnectionPushResult> {
    return this.gateway.push(payload, opts);
  }

  sendFragments(fragments: ReadonlyArray<RawFragment>, opts: { connectionId?: string } = {}): number {
    return this.gateway.sendFragments(fragments, opts);
  }

  dropConnections(connectionId?: string): number {
    return this.gateway.drop(connectionId);
  }
}
