import { afterAll, it } from 'vitest';
import { type Deployment, threeInstances } from '../scenarios/deployments';
import { fanOut } from '../scenarios/fan-out';
import { describePostgres } from '../support/postgres';

/**
 * The fan-out (test/scenarios/fan-out.ts) through a fleet: 250 admins in 25 groups open a form at once, each push
 * handed to one of three instances, which keep under Feishu's limits together only by taking their permits from one
 * limiter in the database. Three limiters of their own would send up to 150 a second and be refused within the first
 * second; 250 forms keep the sends at the app's 50/s for 5 s, which shows the sharing as well as 1,000 do. The 1,000
 * forms (20 s at 50/s, reaching the per-minute limit) are `npm run bench -- fleet`'s figure (bench/README.md).
 */

const GROUPS = 25;
const PER_GROUP = 10;

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
