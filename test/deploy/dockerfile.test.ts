import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { chmod, chown, copyFile, cp, link, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../emulator';
import { SECRETS, botEnv } from '../bot-env';
import { type BotProcess, dataFileLockIsFree, ensureStopped, figure, freePort, tempDirs, waitFor, waitHealthy } from '../reliability/support';

/**
 * The Dockerfile and `npm start`, tested without a Docker engine: the Dockerfile's own commands run in a temporary
 * copy of the repository (its COPY lines copied, its npm RUN lines run, its CMD and HEALTHCHECK started), as the
 * image's unprivileged user (uid 1000, `node` in the node images) on an app folder it cannot write, with its data
 * in a folder of its own as the volume would be. Then `npm start` from the build stage's folder, read-only too, and
 * a SIGTERM sent to npm itself must reach the bot.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The `node` user of the official node images. */
const NODE_USER = { uid: 1000, gid: 1000 };

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's stages, each a list of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Array<{ from: string; instructions: Instruction[] }> {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n');
  const stages: Array<{ from: string; instructions: Instruction[] }> = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, op = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (op === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

/** Image set-up that only makes sense inside the image; the test does its equivalent itself (see below). */
const IMAGE_SETUP = [/^apt-get update && apt-get install -y --no-install-recommends tini/, /^mkdir -p \/data && chown node:node \/data$/];

let emu: Emulator;
const bots: BotProcess[] = [];
const tempDir = tempDirs('todo-deploy-');
let root: string;
const buildDir = () => join(root, 'build');
const appDir = () => join(root, 'app');
const stages = () => readFile(join(ROOT, 'Dockerfile'), 'utf8').then(parseDockerfile);

beforeAll(async () => {
  emu = await startEmulator({ appId: SECRETS.appId, appSecret: SECRETS.appSecret });
  root = await tempDir();
  // mkdtemp makes it 0700; the unprivileged user must be able to enter it, as it can enter / in the image.
  await chmod(root, 0o755);
  await seedNpmCache(join(npmHome(), '.npm'));
});
afterAll(async () => {
  for (const bot of bots) await ensureStopped(bot);
  await emu?.close();
});

/** npm's home for the RUN lines, inside the temporary folder. */
const npmHome = () => join(root, 'npm-home');

/**
 * Seeds the RUN lines' npm cache with what this machine's cache holds (`npm test` runs under npm, which names it;
 * else npm's default), as an image built with a cache mount starts warm: an empty cache downloaded every package
 * twice, about half of the test's time. Nothing the RUN lines do reaches this machine's cache. Its content files are
 * hard-linked: cacache never changes one (each is written under a temporary name, then moved into place), and the
 * Dockerfile's `npm cache clean --force` only removes the links. Its index is copied, since cacache appends to an
 * index file in place. With no cache here (a fresh clone on a new machine) the RUN lines start empty and download.
 */
async function seedNpmCache(cache: string): Promise<void> {
  const machine = join(process.env.npm_config_cache ?? join(homedir(), '.npm'), '_cacache');
  const content = await readdir(join(machine, 'content-v2'), { recursive: true }).catch(() => []);
  for (const path of content) {
    const from = join(machine, 'content-v2', path);
    const to = join(cache, '_cacache', 'content-v2', path);
    if ((await stat(from)).isDirectory()) continue;
    await mkdir(dirname(to), { recursive: true });
    // Across file systems a link cannot be made; a copy of an unchanging file is as safe, only slower.
    await link(from, to).catch((error: NodeJS.ErrnoException) => (error.code === 'EXDEV' ? copyFile(from, to) : Promise.reject(error)));
  }
  if (content.length > 0) await cp(join(machine, 'index-v5'), join(cache, '_cacache', 'index-v5'), { recursive: true });
}

/**
 * Runs a RUN line as the image build would. npm gets a home and a cache of its own inside the temporary folder: the
 * Dockerfile cleans its cache (`npm cache clean --force`), which must never touch this machine's. npm prefers what
 * that cache holds (`prefer-offline`) to asking the registry again: the lock file pins every version and its
 * integrity, so fresher package metadata could change nothing the install does.
 */
function run(command: string, cwd: string, buildArgs: Record<string, string> = {}): void {
  const env = {
    ...buildArgs,
    ...networkTrust(),
    PATH: process.env.PATH,
    HOME: npmHome(),
    npm_config_cache: join(npmHome(), '.npm'),
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  const result = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`\`${command}\` failed (${result.status}):\n${result.stderr}`);
}

/**
 * How this machine reaches the registry, which an image build gets from its host: the certificate authorities of a
 * network that inspects TLS, and its proxies. npm reads its `cafile` from its global config, but the RUN line's
 * `--prefix scripts` moves that file to `scripts/etc/npmrc`, so the setting is passed as npm passes it to `npm test`.
 */
function networkTrust(): Record<string, string> {
  const names = ['NODE_EXTRA_CA_CERTS', 'npm_config_cafile', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])));
}

/** A folder that belongs to the image's user, as the data volume does. */
async function userFolder(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await chown(dir, NODE_USER.uid, NODE_USER.gid);
  return dir;
}

function spawnAsUser(command: string, args: string[], opts: { cwd: string; env: Record<string, string> }): BotProcess {
  const options: SpawnOptions = {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...NODE_USER,
  };
  const child = spawn(command, args, options);
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter((line) => line !== '')));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const bot = { child, lines, exited };
  bots.push(bot);
  return bot;
}

function jsonArgs(args: string): string[] {
  const list = JSON.parse(args.slice(args.indexOf('['))) as unknown;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) throw new Error(`not an exec-form list: ${args}`);
  return list as string[];
}

/** Whether the image's user can create a file in `dir`. */
const userCanWrite = (dir: string) => spawnSync('sh', ['-c', 'touch .write-test'], { cwd: dir, ...NODE_USER }).status === 0;

describe('the Dockerfile', () => {
  it('builds in its build stage (the runtime dependencies and esbuild alone), then runs as the node user from a read-only app folder', async () => {
    const [build, runtime] = await stages();
    expect(build?.from).toMatch(/^node:20-\S+ AS build$/);
    expect(runtime?.from).toMatch(/^node:20-/);

    // As `docker build --build-arg BUILD_COMMIT=…` passes it: an ARG is in the RUN lines' environment.
    const buildArgs: Record<string, string> = {};
    for (const { op, args } of build?.instructions ?? []) {
      if (op === 'ARG' && args === 'BUILD_COMMIT') buildArgs.BUILD_COMMIT = 'c0ffee123456';
      else if (op === 'ARG') throw new Error(`unknown ARG: ${args}`);
      else if (op === 'COPY') {
        const parts = args.split(/\s+/);
        const target = parts.pop() as string;
        const destination = join(buildDir(), target);
        // As Docker reads it: several sources, or a destination ending in '/', name a folder to copy into.
        const into = parts.length > 1 || target.endsWith('/');
        for (const source of parts) await cp(join(ROOT, source), join(destination, into ? basename(source) : ''), { recursive: true });
      } else if (op === 'RUN') run(args, buildDir(), buildArgs);
    }
    // The development tools are not installed to build: they would be most of the stage's install.
    const buildTools = await readdir(join(buildDir(), 'node_modules'));
    for (const tool of ['vitest', '@biomejs', 'playwright-core', 'tsx', 'typescript']) expect(buildTools).not.toContain(tool);
    // The entries (the bot, the store tool) and their source maps, the migrations, the compact Feishu SDK of the
    // installed version, and the chunks loaded on first use (the PostgreSQL adapter among them).
    const built = await readdir(join(buildDir(), 'dist'));
    const sdk = JSON.parse(await readFile(join(buildDir(), 'node_modules', '@larksuiteoapi', 'node-sdk', 'package.json'), 'utf8')) as { version: string };
    const entries = ['main.js', 'main.js.map', 'store.js', 'store.js.map', 'migrations', `lark-sdk-${sdk.version}.cjs`];
    expect(built).toEqual(expect.arrayContaining(entries));
    expect(built.filter((name) => !entries.includes(name)).every((name) => /^[\w-]+-[A-Z0-9]{8}\.js(\.map)?$/.test(name))).toBe(true);
    expect(built.some((name) => name.startsWith('postgres-store-'))).toBe(true);
    // A bot on its file store starts without the PostgreSQL driver and migration tool.
    const main = await readFile(join(buildDir(), 'dist', 'main.js'), 'utf8');
    expect(main).not.toMatch(/from "(pg|node-pg-migrate)"/);
    // The commit it reports, from the build argument (no .git in the build).
    expect(main).toContain('"c0ffee123456"');
    // The PostgreSQL migrations travel with the bundle, which reads them from beside itself.
    expect((await readdir(join(buildDir(), 'dist', 'migrations'))).sort()).toEqual(
      (await readdir(join(buildDir(), 'src', 'store', 'postgres', 'migrations'))).sort(),
    );

    const env: Record<string, string> = {};
    const skipped: string[] = [];
    let cmd: string[] = [];
    let healthcheck: string[] = [];
    let entrypoint: string[] = [];
    let user = '';
    await mkdir(appDir(), { recursive: true });
    for (const { op, args } of runtime?.instructions ?? []) {
      if (op === 'COPY' && args.startsWith('--from=build')) {
        const [, source, destination] = args.split(/\s+/) as [string, string, string];
        // The system's cp: node_modules is thousands of files, which fs.cp copies at three times the CPU.
        const copy = spawnSync('cp', ['-a', join(buildDir(), source.replace(/^\/app\//, '')), join(appDir(), destination)], { encoding: 'utf8' });
        expect(copy.status, copy.stderr).toBe(0);
      } else if (op === 'COPY') {
        for (const file of args.split(/\s+/).slice(0, -1)) await cp(join(ROOT, file), join(appDir(), file));
      } else if (op === 'RUN' && args.startsWith('npm ')) run(args, appDir());
      else if (op === 'RUN') {
        // Anything else must be known image set-up, or this test must learn what it means.
        expect(
          IMAGE_SETUP.some((pattern) => pattern.test(args)),
          `unknown RUN line: ${args}`,
        ).toBe(true);
        skipped.push(args);
      } else if (op === 'ENV') for (const [, name, value] of args.matchAll(/(\w+)=(\S+)/g)) env[name as string] = value as string;
      else if (op === 'USER') user = args;
      else if (op === 'CMD') cmd = jsonArgs(args);
      else if (op === 'HEALTHCHECK') healthcheck = jsonArgs(args);
      else if (op === 'ENTRYPOINT') entrypoint = jsonArgs(args);
    }
    // Checked after the loop, so an image without the line fails too: tini as pid 1 passes SIGTERM on to the bot.
    expect(entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(user).toBe('node');
    // Build tools are not runtime dependencies (issue 23, item 13).
    const installed = await readdir(join(appDir(), 'node_modules'));
    expect(installed).not.toContain('esbuild');
    expect(installed).not.toContain('tsx');
    // Nor TypeScript, which the lock keeps for production as an optional peer of i18next.
    expect(installed).not.toContain('typescript');
    expect(env.DATA_FILE).toBe('/data/db.json');
    expect(cmd[0]).toBe('node');
    expect(userCanWrite(appDir())).toBe(false);

    // The volume: /data, the user's own (the image's `mkdir -p /data && chown node:node /data`).
    const data = await userFolder('data');
    const port = await freePort();
    const runtimeEnv = {
      ...env,
      ...botEnv({ feishuDomain: emu.url, dataFile: (env.DATA_FILE as string).replace(/^\/data/, data), port, logLevel: 'info' }),
      HOST: env.HOST as string,
    };
    // tini is pid 1 in the image and passes SIGTERM on; here the test sends it to the bot itself.
    const bot = spawnAsUser(cmd[0] as string, cmd.slice(1), { cwd: appDir(), env: runtimeEnv });
    await waitHealthy(`http://127.0.0.1:${port}`, bot);
    const [checkCommand, ...checkArgs] = healthcheck as [string, ...string[]];
    const check = () => spawnSync(checkCommand, checkArgs, { cwd: appDir(), env: { PATH: process.env.PATH, PORT: String(port) }, ...NODE_USER }).status;
    expect(check()).toBe(0);

    bot.child.kill('SIGTERM');
    expect(await bot.exited).toEqual({ code: 0, signal: null });
    expect(bot.lines.some((line) => line.includes('to-do bot stopped'))).toBe(true);
    expect(check()).toBe(1);
    // Everything the bot wrote is in the volume (the snapshot, db.json, only once there were changes to fold).
    expect((await readdir(data)).sort()).toEqual(expect.arrayContaining(['db.json.lock', 'db.json.log']));
    figure(
      `deploy — the Dockerfile's npm steps and CMD run as uid 1000 from a read-only /app; HEALTHCHECK 0 while up, 1 after SIGTERM (exit 0); not run here: ${skipped.join('; ')}`,
    );
  }, 300_000);
});

describe('npm start', () => {
  it('runs from a read-only app folder, and a SIGTERM to npm itself stops the bot gracefully', async () => {
    // The build stage's folder, with dist/ and the runtime dependencies; it is root's, so read-only to the user.
    expect(userCanWrite(buildDir())).toBe(false);
    const home = await userFolder('home');
    const data = await userFolder('npm-data');
    const port = await freePort();
    const env = {
      ...botEnv({ feishuDomain: emu.url, dataFile: join(data, 'db.json'), port, logLevel: 'info' }),
      HOME: home,
      npm_config_update_notifier: 'false',
    };
    const npm = spawnAsUser('npm', ['start'], { cwd: buildDir(), env });
    await waitHealthy(`http://127.0.0.1:${port}`, npm);
    const botPid = (JSON.parse(await readFile(join(data, 'db.json.lock'), 'utf8')) as { pid: number }).pid;
    expect(botPid).not.toBe(npm.child.pid);

    npm.child.kill('SIGTERM');
    await npm.exited;
    expect(npm.lines.some((line) => line.includes('to-do bot stopped'))).toBe(true);
    // The bot is gone too, not left running re-parented with its lock.
    await waitFor(async () => (await readFile(`/proc/${botPid}/stat`, 'utf8').catch(() => '')) === '', 'the bot process to be gone');
    expect(await dataFileLockIsFree(join(data, 'db.json'))).toBe(true);
    figure('deploy — npm start from a read-only folder as uid 1000; SIGTERM to npm: the bot logged "to-do bot stopped" and exited');
  }, 60_000);
});
