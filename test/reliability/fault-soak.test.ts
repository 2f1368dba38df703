import { afterAll, describe, it } from 'vitest';
import { type Deployment, oneInstance } from '../scenarios/deployments';
import { SOAK_FAULT_RATE, SOAK_TOTAL, faultSoak } from '../scenarios/fault-soak';

/** The fault soak (test/scenarios/fault-soak.ts) on one instance on the file store, with task sync on in 3 of its 10 groups. */

let deployment: Deployment | undefined;
afterAll(async () => {
  await deployment?.stop();
});

describe('fault soak', () => {
  it(`${SOAK_TOTAL} submits against a Feishu failing ${SOAK_FAULT_RATE * 100}% of calls: every to-do posted once, every form deleted`, async () => {
    await faultSoak({ deploy: oneInstance, tag: 'soak', label: 'Soak item', taskSync: true, started: (started) => (deployment = started) });
  }, 120_000);
});
