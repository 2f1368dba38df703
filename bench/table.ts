import { writeFile } from 'node:fs/promises';
import { cpus, platform, release, totalmem } from 'node:os';

/**
 * One row per figure. Each figure is read against a baseline measured in the same run on the same machine, so a
 * slow or noisy machine moves both and the ratio still compares fairly.
 */
export interface Row {
  figure: string;
  unit: string;
  value: number;
  baseline?: { label: string; value: number };
  /** Usually value / baseline; for a growth figure, the growth itself. */
  ratio?: number;
  /** What is checked, in words ("ratio >= 1", "value < 10"). Absent for a figure reported for context only. */
  target?: string;
  pass?: boolean;
  note?: string;
}

export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString(),
  };
}

function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['figure', 'value', 'baseline', 'ratio', 'target', 'result'];
  const body = rows.map((row) => [
    row.figure,
    `${num(row.value)} ${row.unit}`,
    row.baseline ? `${num(row.baseline.value)} ${row.unit} (${row.baseline.label})` : '-',
    row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}x`,
    row.target ?? '(context)',
    row.pass === undefined ? '' : row.pass ? 'pass' : 'MISS',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => (cells[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  const notes = rows.filter((row) => row.note).map((row) => `  * ${row.figure}: ${row.note}`);
  return [line(header), rule, ...body.map(line), ...(notes.length > 0 ? ['', 'notes:', ...notes] : [])].join('\n');
}

export async function writeResults(path: string, rows: readonly Row[], extra: Record<string, unknown>): Promise<void> {
  await writeFile(path, `${JSON.stringify({ machine: machine(), ...extra, rows }, null, 2)}\n`);
}
