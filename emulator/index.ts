import type { AddressInfo } from 'node:net';
import { RunningEmulator } from './emulator';
import { FaultBook } from './faults';
import { LongConnectionGateway } from './long-connection/gateway';
import { createEmulatorServer } from './server';
import { EmulatorState } from './state';
import type { Emulator, EmulatorOptions } from './types';

export { TASK_CALLS_PER_SECOND } from './api/tasks';
export { CARD_SIZE_LIMIT, cardSize, localI18nField, validateCallbackAnswer, validateCard } from './card-rules';
export { Code } from './errors';
export {
  botMembershipEvent,
  cardActionEvent,
  chatMembersEvent,
  messageEvent,
  messageRecalledEvent,
  taskUpdateEvent,
  taskUpdatedV1Event,
  urlChallenge,
} from './events';
export { encryptPayload, signPush } from './push';
export { defaultChats } from './state';
export type {
  ConnectionDelivery,
  ConnectionPushOptions,
  ConnectionPushResult,
  Delivery,
  EmulatedChat,
  EmulatedConnection,
  EmulatedFeedCard,
  EmulatedMessage,
  EmulatedTask,
  Emulator,
  EmulatorOptions,
  EventSubscription,
  FaultRule,
  HeldCalls,
  PushOptions,
  PushResult,
  RecordedCall,
  TaskChange,
} from './types';

/** A fake Feishu Open Platform on 127.0.0.1 and a free port; point the SDK's `domain` at `emulator.url`. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(opts);
  const faults = new FaultBook();
  const server = createEmulatorServer(state, faults);
  const gateway = new LongConnectionGateway(state);
  server.on('upgrade', (req, socket, head) => gateway.upgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return new RunningEmulator(`http://127.0.0.1:${port}`, state, faults, server, gateway);
}
