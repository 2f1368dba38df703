import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Issue 23, items 6 and 7: the systemd unit and the Docker image as docs/operations.md installs them, walked as far
 * as a shell can without systemd or a Docker engine: which settings win, what the unit runs, and how exposed
 * `systemd-analyze security` rates it.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = join(ROOT, 'deploy', 'feishu-todo-bot.service');
const read = (path: string) => readFile(join(ROOT, path), 'utf8');

/** The variables a file of `NAME=value` lines sets, comments and blank lines aside (as systemd and `docker --env-file` read it). */
function assigned(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split('=')[0] as string),
  );
}

/** The variables the unit's `Environment=` lines set. */
async function unitEnvironment(): Promise<Set<string>> {
  const lines = (await read('deploy/feishu-todo-bot.service')).split('\n').filter((line) => line.startsWith('Environment='));
  return new Set(
    lines.flatMap((line) =>
      line
        .slice('Environment='.length)
        .split(/\s+/)
        .map((pair) => pair.split('=')[0] as string),
    ),
  );
}

/** The variables the Dockerfile's `ENV` lines set in its last (runtime) stage. */
async function imageEnvironment(): Promise<Set<string>> {
  const runtime = (await read('Dockerfile')).split(/^FROM /m).at(-1) ?? '';
  const lines = runtime.split('\n').filter((line) => line.startsWith('ENV '));
  return new Set(
    lines.flatMap((line) =>
      line
        .slice(4)
        .split(/\s+/)
        .map((pair) => pair.split('=')[0] as string),
    ),
  );
}

describe('deploying by the docs', () => {
  it('leaves the unit’s and the image’s own settings to them: .env.example, copied as the docs say, sets none of them', async () => {
    // EnvironmentFile= wins over Environment=, and --env-file over ENV: a DATA_FILE in the copied .env sent the data
    // under the read-only /opt, and the bot exited 1 five times until systemd gave up.
    const example = assigned(await read('.env.example'));
    for (const name of await unitEnvironment()) expect(example, `the unit sets ${name}`).not.toContain(name);
    for (const name of await imageEnvironment()) expect(example, `the image sets ${name}`).not.toContain(name);
    expect(await unitEnvironment()).toContain('DATA_FILE');
    expect([...(await imageEnvironment())]).toEqual(expect.arrayContaining(['DATA_FILE', 'HOST', 'PORT']));
  });

  it('keeps every env file but the example out of git (issue 23, item 14)', () => {
    const ignored = (path: string) => spawnSync('git', ['check-ignore', '-q', path], { cwd: ROOT }).status === 0;
    for (const path of ['.env', '.env.production', '.env.local', 'deploy/.env.staging']) expect(ignored(path), path).toBe(true);
    expect(ignored('.env.example')).toBe(false);
  });

  it('runs the node on systemd’s search path, not a hard-coded /usr/bin/node (Debian 12’s is Node 18)', async () => {
    const unit = await read('deploy/feishu-todo-bot.service');
    expect(unit).toMatch(/^ExecStart=node --enable-source-maps dist\/main\.js$/m);
    expect(unit).not.toMatch(/^ExecStart=\/usr\/bin\/node/m);
  });

  it('is rated 3 or under by systemd-analyze security (was 6.5 MEDIUM)', (ctx) => {
    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.error) {
      const missing = 'systemd-analyze is not installed (apt-get install -y systemd): the unit’s security exposure is not rated here';
      // CI sets the switch, so a runner without the tool cannot pass without rating the unit.
      expect(process.env.REQUIRE_SYSTEMD_ANALYZE, `REQUIRE_SYSTEMD_ANALYZE=1, but ${missing}`).not.toBe('1');
      console.log(`SKIPPED: ${missing}; REQUIRE_SYSTEMD_ANALYZE=1 makes this a failure.`);
      return ctx.skip(missing);
    }
    const rated = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8' });
    const exposure = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(rated.stdout)?.[1];
    expect(exposure, rated.stdout + rated.stderr).toBeDefined();
    console.log(`FIGURE: systemd-analyze security: ${exposure} for deploy/feishu-todo-bot.service`);
    expect(Number(exposure)).toBeLessThanOrEqual(3);
  });
});
