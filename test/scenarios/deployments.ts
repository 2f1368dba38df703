import type { Emulator, EmulatorOptions } from '../../emulator';
import type { AppOptions } from '../../src/app';
import type { Store } from '../../src/store/store';
import { type Answer, type ClickOptions, type SayOptions, startHarness } from '../e2e/harness';
import { startFleet } from '../fleet/fleet';
import { waitFor } from '../reliability/support';

/**
 * The two ways the bot is deployed, behind one face, so that a scenario (the fault soak, the fan-out) is written
 * once and run on both, as the store contract suite runs against every adapter: one instance on the file store, and
 * three instances on one PostgreSQL schema, each push handed to one of them at random as a load balancer would.
 */

export interface DeploymentOptions {
  emulator: EmulatorOptions;
  env?: Record<string, string>;
  app?: AppOptions;
}

/** An answer, and the instance that gave it (always 0 for one instance). */
export type RoutedAnswer = Answer & { via: number };

export interface Deployment {
  /** How the figures name it. */
  name: string;
  emu: Emulator;
  instances: number;
  say(sender: string, text: string, opts?: SayOptions): Promise<RoutedAnswer>;
  click(operator: string, messageId: string, value: Record<string, unknown> | undefined, opts?: ClickOptions): Promise<RoutedAnswer>;
  /** Waits until no job is left at all, across every instance (at most `limitMs`; then throws). */
  drained(limitMs: number): Promise<void>;
  /** The stored records, read as the bot reads them, and written as it writes them (a group's settings, say). */
  store: Pick<Store, 'form' | 'openTodos' | 'commit'>;
  /** Each instance's log lines. */
  logs: string[][];
  stop(): Promise<void>;
}

export type Deploy = (options: DeploymentOptions) => Promise<Deployment>;

export const oneInstance: Deploy = async (options) => {
  const h = await startHarness({ ...options, env: { LOG_LEVEL: 'info', ...options.env } });
  return {
    name: 'one instance on the file store',
    emu: h.emu,
    instances: 1,
    say: async (sender, text, opts) => ({ ...(await h.say(sender, text, opts)), via: 0 }),
    click: async (operator, messageId, value, opts) => ({ ...(await h.click(operator, messageId, value, opts)), via: 0 }),
    drained: (limitMs) =>
      waitFor(
        async () => {
          await h.settled();
          return (await h.app.store.stats()).pendingJobs === 0;
        },
        'every job to finish',
        limitMs,
        20,
      ).then(() => undefined),
    get store() {
      return h.app.store;
    },
    logs: [h.logs],
    stop: () => h.stop(),
  };
};

export const threeInstances: Deploy = async (options) => {
  const fleet = await startFleet(options);
  return {
    name: '3 instances on PostgreSQL',
    emu: fleet.emu,
    instances: 3,
    say: (sender, text, opts) => fleet.say(sender, text, opts),
    click: (operator, messageId, value, opts) => fleet.click(operator, messageId, value, opts),
    drained: (limitMs) => fleet.settled(limitMs),
    store: fleet.store,
    logs: fleet.logs,
    stop: () => fleet.stop(),
  };
};
