import { afterAll, it } from 'vitest';
import { MESSAGES, tempDirs } from '../reliability/support';
import { crash } from '../scenarios/crash';
import { type ProcessDeployment, threeProcesses } from '../scenarios/process-deployments';
import { describePostgres } from '../support/postgres';

/**
 * The crash scenario (test/scenarios/crash.ts) on three bot processes on one PostgreSQL schema. Feishu holds every
 * post for a while, and the instance holding the most posting jobs is SIGKILLed while its posts are in flight:
 * Feishu still makes them, the dead instance never hears so. Its jobs' leases run out and the other instances resume
 * them at their last finished step: each to-do is posted exactly once (the repeated post carries the same uuid, which
 * Feishu drops) and each form card is deleted. Then the killed instance starts again and joins the fleet.
 */

const PEOPLE = 6;

let deployment: ProcessDeployment | undefined;
const tempDir = tempDirs('todo-fleet-crash-');
afterAll(async () => {
  await deployment?.dispose();
});

describePostgres('an instance SIGKILLed mid-submit', () => {
  it('leaves every to-do posted exactly once and every form deleted, by the instances still running', async () => {
    await crash({
      deploy: threeProcesses,
      dir: tempDir,
      people: PEOPLE,
      kills: 1,
      // Long enough that the kill lands while posts are on the wire, whichever moment it picks.
      held: { method: 'POST', path: MESSAGES, delayMs: 2_000 },
      tag: 'fleet_crash',
      label: 'Fleet crash item',
      started: (started) => (deployment = started),
    });
  }, 180_000);
});
