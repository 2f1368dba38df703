import { afterAll, describe, it } from 'vitest';
import { crash } from '../scenarios/crash';
import { type ProcessDeployment, oneProcess } from '../scenarios/process-deployments';
import { tempDirs } from './support';

/**
 * The crash scenario (test/scenarios/crash.ts) on one bot process on the file store: SIGKILLed up to 6 times while 50
 * admins open and submit a form, and started again on the same DATA_FILE each time (the dead bot's lock note must not
 * stop the restart).
 */

const PEOPLE = 50;

let deployment: ProcessDeployment | undefined;
const tempDir = tempDirs('todo-crash-');
afterAll(async () => {
  await deployment?.dispose();
});

describe('crash test', () => {
  it(`${PEOPLE} submits with the bot SIGKILLed at random moments: every to-do posted once, every form deleted`, async () => {
    await crash({
      deploy: oneProcess,
      dir: tempDir,
      people: PEOPLE,
      kills: 6,
      // Half of the sends, posts and deletes take 150 ms before Feishu does them, so kills often land mid-call.
      held: { path: /^\/open-apis\/(ephemeral\/v1\/|im\/v1\/messages)/, delayMs: 150, probability: 0.5 },
      tag: 'crash',
      label: 'Crash item',
      started: (started) => (deployment = started),
    });
  }, 120_000);
});
