import type { Emulator, PushResult } from '../emulator';

/**
 * How the demo's Feishu reaches the bot. By default signed, encrypted HTTP pushes to the webhook; with
 * `npm run demo -- --long-connection`, the bot runs with FEISHU_EVENTS=long-connection, the SDK's WSClient dials the
 * emulator's gateway, and every push goes over that connection, its answer coming back in the ack frame.
 */
export interface DemoTransport {
  label: string;
  /** How one push travels, for the demo's lines ("signed and encrypted over HTTP"). */
  delivery: string;
  env: Record<string, string>;
  /** Resolves once pushes can reach the bot. */
  ready(emu: Emulator): Promise<void>;
  /** Sends a push; `signing` is what the webhook's signature takes (the long connection needs none). */
  push(
    emu: Emulator,
    target: string,
    payload: object,
    signing: { encryptKey: string; timestamp: number },
  ): Promise<Pick<PushResult, 'status' | 'body' | 'elapsedMs'>>;
}

const webhook: DemoTransport = {
  label: 'webhook (signed, encrypted HTTP pushes)',
  delivery: 'signed and encrypted over HTTP',
  env: {},
  ready: async () => undefined,
  push: (emu, target, payload, signing) => emu.push(target, payload, signing),
};

const longConnection: DemoTransport = {
  label: 'long connection (the SDK’s WSClient; no public URL, no Encrypt Key)',
  delivery: 'over the long connection',
  env: { FEISHU_EVENTS: 'long-connection' },
  ready: (emu) => emu.awaitConnections(1),
  async push(emu, _target, payload) {
    const { answer, deliveries } = await emu.pushOverConnection(payload);
    const last = deliveries.at(-1);
    return { status: last?.code ?? 0, body: answer, elapsedMs: last?.elapsedMs ?? 0 };
  },
};

export const demoTransport = (argv: readonly string[]): DemoTransport => (argv.includes('--long-connection') ? longConnection : webhook);
