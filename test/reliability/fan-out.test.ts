import { afterAll, describe, it } from 'vitest';
import { type Deployment, oneInstance } from '../scenarios/deployments';
import { fanOut } from '../scenarios/fan-out';

/** The fan-out (test/scenarios/fan-out.ts) on one instance: 300 admins of one group open a form at the same moment. */

const USERS = 300;

let deployment: Deployment | undefined;
afterAll(async () => {
  await deployment?.stop();
});

describe('rate fan-out', () => {
  it(`${USERS} forms opened in one group at once: 0 limit errors, all delivered`, async () => {
    await fanOut({
      deploy: oneInstance,
      groups: 1,
      perGroup: USERS,
      concurrency: 50,
      tag: 'fanout',
      limitMs: 60_000,
      started: (started) => (deployment = started),
    });
  }, 60_000);
});
