import type { LongConnectionGateway } from './long-connection/gateway';
import { composePush, deliver } from './push';
import type { Delivery, EventSubscription } from './types';

/**
 * Feishu pushing the app's events of its own accord (a task changed), where the app's developer console says: to its
 * request URL, signed and encrypted with its Encrypt Key, or over its long connection. Without a subscription set,
 * nothing is pushed, as for an app whose console subscribes to no events.
 */
export class EventPusher {
  subscription: EventSubscription | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    /** The emulator's record of every push (`Emulator.deliveries`), so a test can redeliver one. */
    private readonly deliveries: Delivery[],
    private readonly gateway: LongConnectionGateway,
  ) {}

  /**
   * Pushes the event `build` makes with the subscription's verification token, after the call that caused it has been
   * answered (Feishu's events come asynchronously); resolves once the bot answered it, or it was given up.
   */
  push(build: (token: string) => object): Promise<void> {
    const subscription = this.subscription;
    if (!subscription) return Promise.resolve();
    const pushed = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.send(subscription, build(subscription.verificationToken)));
    this.inFlight.add(pushed);
    void pushed.finally(() => this.inFlight.delete(pushed));
    return pushed;
  }

  /** A bot that is down, or never answers, is what Feishu meets too: the push stays in the record, nothing throws. */
  private async send(subscription: EventSubscription, payload: object): Promise<void> {
    if ('longConnection' in subscription) {
      await this.gateway.push(payload);
      return;
    }
    const delivery = composePush(subscription.url, payload, {
      ...(subscription.encryptKey !== undefined && { encryptKey: subscription.encryptKey }),
      timestamp: Math.floor((subscription.clock ?? Date.now)() / 1000),
    });
    this.deliveries.push(delivery);
    await deliver(delivery).catch(() => undefined);
  }

  /** Resolves once every push made so far, and every push those set off meanwhile, has been answered or given up. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }
}
