import { afterAll, it } from 'vitest';
import { type Deployment, threeInstances } from '../scenarios/deployments';
import { fanOut } from '../scenarios/fan-out';
import { describePostgres } from '../support/postgres';

/**
 * The fan-out (test/scenarios/fan-out.ts) through a fleet: 1,000 admins in 25 groups open a form at once, each push
 * handed to one of three instances, which keep under Feishu's limits together only by taking their permits from one
 * limiter in the database.
 */

const GROUPS = 25;
const PER_GROUP = 40;

let deployment: Deployment | undefined;
afterAll(async () => {
  await deployment?.stop();
});

describePostgres('fan-out through a fleet', () => {
  it(`${GROUPS * PER_GROUP} forms across ${GROUPS} groups through three instances: 0 limit errors, all delivered`, async () => {
    await fanOut({
      deploy: threeInstances,
      groups: GROUPS,
      perGroup: PER_GROUP,
      concurrency: 10,
      tag: 'fleet_fan',
      limitMs: 90_000,
      started: (started) => (deployment = started),
    });
  }, 120_000);
});
