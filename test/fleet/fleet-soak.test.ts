import { afterAll, it } from 'vitest';
import { type Deployment, threeInstances } from '../scenarios/deployments';
import { SOAK_FAULT_RATE, SOAK_TOTAL, faultSoak } from '../scenarios/fault-soak';
import { describePostgres } from '../support/postgres';

/**
 * The fault soak (test/scenarios/fault-soak.ts) over a fleet: three instances on one PostgreSQL schema, each push
 * handed to one of them at random (the open through one, the Submit through another, as likely as not). Nothing is
 * lost and nothing is done twice, whichever instance ran which step of which job, and no lease is lost.
 */

let deployment: Deployment | undefined;
afterAll(async () => {
  await deployment?.stop();
});

describePostgres('fault soak over a fleet', () => {
  it(`${SOAK_TOTAL} submits through three instances against a Feishu failing ${SOAK_FAULT_RATE * 100}% of calls: every to-do posted once, every form deleted`, async () => {
    await faultSoak({ deploy: threeInstances, tag: 'fleet_soak', label: 'Fleet soak item', started: (started) => (deployment = started) });
  }, 120_000);
});
