import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * The proof that leases hold on a busy machine (docs/reliability.md, "Leases on a busy machine"): runs the fleet fault
 * soak (three instances on PostgreSQL, 30% of Feishu calls failing) `RUNS` times in a row (default 20) while another
 * process keeps one core busy, and stops at the first failure. Not part of `npm test`: twenty runs take 10-15 minutes.
 *
 *     npm run soak:busy            # 20 runs of test/fleet/fleet-soak.test.ts
 *     npm run soak:busy -- 5 test/fleet/fleet-stall.test.ts
 */

const runs = Number(process.argv[2] ?? 20);
const file = process.argv[3] ?? 'test/fleet/fleet-soak.test.ts';
if (!Number.isInteger(runs) || runs < 1) throw new Error(`the number of runs must be a whole number, not ${process.argv[2]}`);

/** Keeps one core busy until killed: a loop in a process of its own, so it competes with the tests' for the CPU. */
function busyCore(): ChildProcess {
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  busy.unref();
  return busy;
}

function run(): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ ok: code === 0, output }));
  });
}

const busy = busyCore();
const stopBusy = () => busy.kill('SIGKILL');
process.on('exit', stopBusy);
process.on('SIGINT', () => process.exit(130));

const seconds: number[] = [];
for (let n = 1; n <= runs; n++) {
  const started = performance.now();
  const { ok, output } = await run();
  seconds.push((performance.now() - started) / 1000);
  const figures = output.split('\n').filter((line) => line.includes('FIGURE:'));
  console.log(`run ${n}/${runs}: ${ok ? 'passed' : 'FAILED'} in ${seconds.at(-1)?.toFixed(1)} s`);
  for (const line of figures) console.log(`  ${line.trim()}`);
  if (!ok) {
    console.log(output);
    process.exit(1);
  }
}
const sorted = [...seconds].sort((a, b) => a - b);
console.log(`${runs} runs of ${file} in a row passed with one core kept busy; each ${sorted[0]?.toFixed(1)}-${sorted.at(-1)?.toFixed(1)} s`);
