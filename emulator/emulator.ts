import type { Server } from 'node:http';
import { placement } from './api/message-send';
import { storedDue } from './api/tasks';
import { EventPusher } from './event-pusher';
import { messageContent } from './events';
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
  EmulatedTask,
  Emulator,
  EventSubscription,
  FaultRule,
  HeldCalls,
  PushOptions,
  PushResult,
  RawFragment,
  RecordedCall,
  TaskChange,
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
  readonly tasks: Map<string, EmulatedTask>;
  private readonly events: EventPusher;

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
    this.tasks = state.tasks;
    this.events = new EventPusher(this.deliveries, gateway);
    state.pushEvent = (build) => this.events.push(build);
  }

  setEventSubscription(subscription: EventSubscription | undefined): void {
    this.events.subscription = subscription;
  }

  eventsSettled(): Promise<void> {
    return this.events.settled();
  }

  setContactScope(granted: boolean): void {
    this.state.contactScopeGranted = granted;
  }

  setTaskScope(granted: boolean): void {
    this.state.taskScopeGranted = granted;
  }

  get taskEventsSubscribed(): boolean {
    return this.state.taskEventsSubscribed;
  }

  async changeTaskAsUser(guid: string, userId: string, change: TaskChange, opts: { eventLost?: boolean } = {}): Promise<string[]> {
    const task = this.tasks.get(guid);
    if (!task || task.deleted) throw new Error(`changeTaskAsUser: no live task ${guid}`);
    const eventTypes = applyUserChange(task, change, this.state.now());
    task.updatedAt = this.state.now();
    task.changedBy = userId;
    if (!opts.eventLost) await this.state.taskChanged(task, eventTypes);
    return eventTypes;
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

  hold(rule: HeldCalls): () => void {
    let release!: () => void;
    this.faults.add(rule, new Promise<void>((resolve) => (release = resolve)));
    return release;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  addExternalMessage(m: Parameters<Emulator['addExternalMessage']>[0]): string {
    if (!this.chats.has(m.chatId)) throw new Error(`addExternalMessage: no chat ${m.chatId} in the emulator`);
    const messageId = this.state.nextMessageId('other');
    const format = m.format ?? 'text';
    const mentions = m.mentions ?? [];
    this.state.store({
      messageId,
      chatId: m.chatId,
      kind: m.parentId === undefined ? 'message' : 'reply',
      ...(m.parentId !== undefined && { parentId: m.parentId }),
      ...placement(this.state, m.chatId, m.parentId),
      msgType: format,
      content: JSON.parse(messageContent(format, m.text, mentions)),
      ...(mentions.length > 0 && { mentions: mentions.map((x) => ({ key: x.key, id: x.openId, name: x.name })) }),
      recalled: false,
      deleted: false,
      updates: [],
      senderId: m.senderId,
      senderType: m.senderType ?? 'user',
      createdAt: m.sentAt ?? this.state.now(),
    });
    return messageId;
  }

  directChatId(openId: string): string {
    return this.state.directChat(openId).chatId;
  }

  setMessageScope(granted: boolean): void {
    this.state.messageScopeGranted = granted;
  }

  /** `im:message.group_msg`: without it a group's messages cannot be read, even with a message read scope. */
  setGroupMessageScope(granted: boolean): void {
    this.state.groupMessageScopeGranted = granted;
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

/** Changes the task as a person's Feishu Task app does; returns the `event_types` Feishu names for the change. */
function applyUserChange(task: EmulatedTask, change: TaskChange, now: number): string[] {
  if ('complete' in change) {
    task.completedAt = String(now);
    return ['task_completed_update'];
  }
  if ('reopen' in change) {
    task.completedAt = '0';
    return ['task_completed_update'];
  }
  if ('delete' in change) {
    task.deleted = true;
    return ['task_deleted'];
  }
  if ('summary' in change) {
    task.summary = change.summary;
    return ['task_summary_update'];
  }
  if ('due' in change) {
    task.due = change.due ? storedDue({ timestamp: String(change.due.at), is_all_day: change.due.allDay ?? false }) : undefined;
    return ['task_due_update'];
  }
  task.members = [...task.members.filter((m) => m.role !== 'assignee'), ...change.assignees.map((id) => ({ id, role: 'assignee' as const }))];
  return ['task_assignees_update'];
}
