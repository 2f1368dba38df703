import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm run demo` as a person runs it, its output piped (not a terminal) and with NO_COLOR set, both ways Feishu can
 * reach the bot: signed webhook pushes, and the long connection (`-- --long-connection`).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

describe('the demo', () => {
  it.each([
    { args: [], transport: 'Pushes by       webhook (signed, encrypted HTTP pushes)' },
    { args: ['--long-connection'], transport: 'Pushes by       long connection' },
  ])(
    'walks a to-do’s whole life, showing cards as people read them, without colour when asked for none ($args)',
    ({ args, transport }) => {
      const run = spawnSync(TSX, ['scripts/demo.ts', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
        timeout: 60_000,
      });
      expect(run.status).toBe(0);
      const out = run.stdout;
      expect(out).toContain(transport);
      // No escape codes and no raw markup: entities decoded, mentions as names.
      expect(out).not.toContain('\x1b[');
      expect(out).not.toMatch(/&#\d+;|<person |<at id=ou_/);
      for (const step of [
        'Only the group owner and group admins can create to-dos here.',
        'What needs doing: [ Ship the release notes ]',
        'sees an error toast',
        '╭─ To-do · Open',
        'Assignees: @Alice @Bob',
        'Open to-dos in this chat',
        '│ Reminder for @Alice @Bob:\n    │ Ship the release notes',
        'Snoozed: I will remind again',
        '╭─ To-do · Done',
        'is withdrawn from the group',
        'Recalled the to-do',
      ]) {
        expect(out, step).toContain(step);
      }
      // What a person typed stays text: the @all in the form is shown, literally, and mentions nobody.
      expect(out).toContain('Ship the release notes <at id=all></at> (v2.1: see #42)');
    },
    90_000,
  );
});
