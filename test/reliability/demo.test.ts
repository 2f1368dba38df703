import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TSX_LOADER } from './support';

/** `npm run demo`, both ways Feishu can reach the bot: it plays the whole flow and exits 0. */

const DEMO = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));
const run = (args: string[]) => promisify(execFile)(process.execPath, ['--import', TSX_LOADER, DEMO, ...args], { timeout: 60_000 });

describe('the demo', () => {
  it.each([[[]], [['--long-connection']]])('runs the flow to the Done card with args %j', async (args) => {
    const { stdout } = await run(args);
    expect(stdout).toContain(args.length > 0 ? 'long connection' : 'webhook');
    expect(stdout).toContain('Please write what needs doing.');
    expect(stdout).toContain('Posting your to-do to the group');
    expect(stdout).toContain('Marked done.');
  }, 60_000);
});
