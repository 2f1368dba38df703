import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { benchDigest } from './digest';
import { benchFanout } from './fanout';
import { ROOT, SCRATCH } from './fixtures';
import { benchFleet } from './fleet';
import { benchFootprint } from './footprint';
import { benchLongConnection } from './long-connection';
import { benchStore } from './store';
import { type Row, formatTable, machine, writeResults } from './table';
import { benchTaskFanout } from './task-fanout';
import { benchWebhook } from './webhook';

/**
 * `npm run bench [-- webhook store fanout footprint long-connection fleet task-fanout digest]`: every figure against a baseline measured in
 * this same run, one table, and bench/results.json (a run of some figures only writes bench/results.tmp/ instead,
 * leaving the full run's results in place). Progress goes to stderr so the table on stdout stays clean.
 */

const FIGURES: Record<string, (log: (line: string) => void) => Promise<Row[]>> = {
  webhook: benchWebhook,
  store: benchStore,
  fanout: benchFanout,
  footprint: benchFootprint,
  'long-connection': benchLongConnection,
  fleet: benchFleet,
  'task-fanout': benchTaskFanout,
  digest: benchDigest,
};

const chosen = process.argv.slice(2).filter((name) => name in FIGURES);
const names = chosen.length > 0 ? chosen : Object.keys(FIGURES);
const started = performance.now();
const log = (line: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

const m = machine();
log(`${m.cpu}, ${m.cores} cores, ${m.totalMemoryMB} MB, node ${m.node}`);
const rows: Row[] = [];
const timings: Record<string, number> = {};
for (const name of names) {
  const figureStarted = performance.now();
  log(`${name}...`);
  rows.push(...(await (FIGURES[name] as (typeof FIGURES)[string])(log)));
  timings[name] = Math.round((performance.now() - figureStarted) / 100) / 10;
}
const totalSeconds = Math.round((performance.now() - started) / 100) / 10;

console.log(formatTable(rows));
const misses = rows.filter((row) => row.pass === false).map((row) => row.figure);
console.log(
  `\n${rows.filter((row) => row.pass !== undefined).length - misses.length} targets met, ${misses.length} missed; ${totalSeconds} s in all (${Object.entries(
    timings,
  )
    .map(([name, s]) => `${name} ${s} s`)
    .join(', ')})`,
);
// Only a run of every figure replaces the committed results; a partial run (`npm run bench -- store`) is kept apart.
const partial = names.length < Object.keys(FIGURES).length;
const resultsPath = partial ? join(SCRATCH, `results-${names.join('-')}.json`) : join(ROOT, 'bench', 'results.json');
await mkdir(dirname(resultsPath), { recursive: true });
await writeResults(resultsPath, rows, { figures: names, totalSeconds, secondsPerFigure: timings });
log(`results written to ${relative(ROOT, resultsPath)}${partial ? ' (a partial run: bench/results.json keeps the last full run)' : ''}`);
process.exit(0);
