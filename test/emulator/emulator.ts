import type { Server } from 'node:http';
import { type FaultBook, pathMatches } from './faults';
import { pushTo } from './push';
import type { EmulatorState } from './state';
import type {
  EmulatedChat,
  EmulatedFeedCard,
  EmulatedMessage,
  Emulator,
  FaultRule,
  PushOptions,
  PushResult,
  RecordedCall,
} from './types';

/** The face a test holds: the state's maps themselves (never copies), plus controls over faults and lifetime. */
export class RunningEmulator implements Emulator {
  readonly calls: RecordedCall[];
  readonly messages: Map<string, EmulatedMessage>;
  readonly feedCards: Map<string, EmulatedFeedCard>;
  readonly chats: Map<string, EmulatedChat>;

  constructor(
    readonly url: string,
    private readonly state: EmulatorState,
    private readonly faults: FaultBook,
    private readonly server: Server,
  ) {
    this.calls = state.calls;
    this.messages = state.messages;
    this.feedCards = state.feedCards;
    this.chats = state.chats;
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

  addExternalMessage(m: { chatId: string; senderId: string; text: string }): string {
    if (!this.chats.has(m.chatId)) throw new Error(`addExternalMessage: no chat ${m.chatId} in the emulator`);
    const messageId = this.state.nextMessageId('other');
    this.state.store({
      messageId,
      chatId: m.chatId,
      kind: 'message',
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
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  push(target: string, payload: object, opts: PushOptions = {}): Promise<PushResult> {
    return pushTo(target, payload, opts);
  }
}
