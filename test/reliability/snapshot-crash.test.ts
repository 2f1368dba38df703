import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS, type CollectionName, type Records } from '../../src/store/embedded/persistence';
import { RecordStore } from '../../src/store/embedded/records';
import { FilePersistence } from '../../src/store/embedded/snapshot-log';
import { figure, tempDirs } from './support';

/**
 * A snapshot is written while the bot keeps answering (src/store/embedded/snapshot-log.ts): the log is sealed, a fresh one takes the
 * writes, and the records are serialised a slice at a time, so the snapshot may catch records changed after the
 * seal. These tests keep writing during a snapshot and take what a crash would leave on disk at many moments of it,
 * then start from each copy: every acknowledged write must be there, with its last acknowledged value.
 */

const tempDir = tempDirs('todo-snapshot-');

const FILES = ['db.json', 'db.json.log', 'db.json.log.sealed'];
/**
 * Crash copies taken during one snapshot, spread over all of it. Each copy is loaded twice, 62,000 records each time,
 * so their number is the test's time: a fixed interval (every 25 ms) made 26 copies on a quiet machine and 42 under
 * the full suite's load, where the snapshot takes longer, and the test took 10 s and 26 s.
 */
const CRASH_POINTS = 16;

/**
 * What a SIGKILL at this instant leaves: the store's files as they are. The copy is synchronous, but the snapshot's
 * renames and deletions run on libuv's threads meanwhile, so a copy that saw any file change under it is taken again.
 */
function copyOnDisk(from: string, to: string): string[] {
  for (;;) {
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    const before = fileStates(from);
    const present = FILES.filter((name) => existsSync(join(from, name)) && statSync(join(from, name)).isFile());
    try {
      for (const name of present) copyFileSync(join(from, name), join(to, name));
    } catch {
      continue;
    }
    if (fileStates(from) === before) return present;
  }
}

function fileStates(dir: string): string {
  return FILES.map((name) => {
    const stat = statSync(join(dir, name), { throwIfNoEntry: false });
    return stat ? `${name}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : `${name}:-`;
  }).join('|');
}

function plain(records: Records): Record<string, Record<string, unknown>> {
  return Object.fromEntries(COLLECTIONS.map((name) => [name, Object.fromEntries(records[name])]));
}

/** Where two sets of records differ (at most a few), by key and serialised value, whatever their order. */
function differences(actual: Records, expected: Records): string[] {
  const found: string[] = [];
  for (const name of COLLECTIONS) {
    const keys = new Set([...actual[name].keys(), ...expected[name].keys()]);
    for (const key of keys) {
      const [a, e] = [JSON.stringify(actual[name].get(key)), JSON.stringify(expected[name].get(key))];
      if (a !== e && found.push(`${name}/${key}: ${a} instead of ${e}`) >= 5) return found;
    }
  }
  return found;
}

async function loadCopy(dir: string): Promise<Records> {
  const persistence = new FilePersistence(join(dir, 'db.json'));
  const records = await persistence.load();
  await persistence.close();
  return records;
}

/** A store with enough records that serialising them takes many slices. */
async function bigStore(dir: string, fsyncIntervalMs = 1_000): Promise<RecordStore> {
  const records = new RecordStore(new FilePersistence(join(dir, 'db.json'), fsyncIntervalMs));
  await records.open();
  for (let i = 0; i < 60_000; i++) records.put('events', `ev_${i}`, i);
  for (let i = 0; i < 2_000; i++) records.put('todos', `todo_${i}`, { id: `todo_${i}`, text: `task ${i}`, status: 'open' });
  await records.flush();
  return records;
}

/** Starts a forced snapshot in the background; `done()` says whether it has finished. */
function startSnapshot(records: RecordStore): { done: () => boolean; finished: Promise<void> } {
  let finished = false;
  const promise = records.compact(true).then(() => {
    finished = true;
  });
  return { done: () => finished, finished: promise };
}

/** One step of the bot's work: overwrite, delete and add records, then wait until it is durable (acknowledged). */
async function step(records: RecordStore, i: number): Promise<void> {
  const collection: CollectionName = i % 2 === 0 ? 'todos' : 'forms';
  records.put(collection, `${collection}_${i}`, { id: i, text: `added at step ${i}` });
  records.put('todos', `todo_${i % 2_000}`, { id: `todo_${i % 2_000}`, text: `rewritten at step ${i}`, status: 'done' });
  records.delete('events', `ev_${(i * 7) % 60_000}`);
  records.put('jobs', `job_${i}`, { id: `job_${i}` });
  if (i > 0) records.delete('jobs', `job_${i - 1}`);
  await records.flush();
}

describe('a snapshot written while the bot works', () => {
  it('never holds up a write: writes are acknowledged while the snapshot is still being written', async () => {
    const dir = await tempDir();
    const records = await bigStore(dir);
    const snapshot = startSnapshot(records);
    let acknowledgedDuring = 0;
    for (let i = 0; !snapshot.done(); i++) {
      await step(records, i);
      if (!snapshot.done()) acknowledgedDuring++;
    }
    await snapshot.finished;
    expect(acknowledgedDuring).toBeGreaterThan(0);
    const expected = recordsOf(records);
    await records.close();
    expect(differences(await loadCopy(dir), expected)).toEqual([]);
    expect(existsSync(join(dir, 'db.json.log.sealed'))).toBe(false);
    figure(`snapshot under writes — ${acknowledgedDuring} writes acknowledged while 62,000 records were being snapshotted`);
  });

  it('loses nothing acknowledged if the process dies at any moment of it', async () => {
    const dir = await tempDir();
    const records = await bigStore(dir);
    // A rehearsal under the same writes tells how long a snapshot takes on this machine, now.
    let i = 0;
    const rehearsed = performance.now();
    const rehearsal = startSnapshot(records);
    for (; !rehearsal.done(); i++) await step(records, i);
    const crashEveryMs = (performance.now() - rehearsed) / CRASH_POINTS;

    const snapshot = startSnapshot(records);
    const crashes: Array<{ copy: string; files: string[]; expected: Records }> = [];
    let lastCopy = Number.NEGATIVE_INFINITY;
    for (; !snapshot.done(); i++) {
      await step(records, i);
      if (performance.now() - lastCopy < crashEveryMs) continue;
      lastCopy = performance.now();
      // Right after an acknowledgement every change made is durable: the state to come back to is the state now.
      const copy = join(dir, `crash-${i}`);
      crashes.push({ copy, files: copyOnDisk(dir, copy), expected: recordsOf(records) });
    }
    await snapshot.finished;
    await records.close();

    // The interesting moments were caught: the log sealed, before and after the new snapshot replaced the old.
    expect(crashes.filter((crash) => crash.files.includes('db.json.log.sealed')).length).toBeGreaterThan(0);
    for (const crash of crashes) {
      expect(differences(await loadCopy(crash.copy), crash.expected), `crash copy with ${crash.files.join(', ')}`).toEqual([]);
      // Starting from it folds the sealed log into a snapshot at once, and the next start finds the same.
      expect(existsSync(join(crash.copy, 'db.json.log.sealed'))).toBe(false);
      expect(differences(await loadCopy(crash.copy), crash.expected)).toEqual([]);
    }
    figure(
      `snapshot crash — ${crashes.length} crash points during one snapshot of 62,000 records, ${crashes.filter((c) => c.files.includes('db.json.log.sealed')).length} with the log sealed: every acknowledged write came back`,
    );
  }, 120_000);

  it('keeps everything when a snapshot fails, and folds the sealed log at the next try', async () => {
    const dir = await tempDir();
    const records = new RecordStore(new FilePersistence(join(dir, 'db.json')));
    await records.open();
    records.put('todos', 't1', { id: 't1' });
    await records.flush();
    // A directory where the snapshot should go: renaming onto it fails, as a full or broken disk would fail a write.
    await mkdir(join(dir, 'db.json'));
    await expect(records.compact(true)).rejects.toThrow();
    expect(existsSync(join(dir, 'db.json.log.sealed'))).toBe(true);
    records.put('todos', 't2', { id: 't2' });
    await records.flush();
    // A second failure must not seal over the first sealed log, which no snapshot covers yet.
    await expect(records.compact(true)).rejects.toThrow();
    records.put('todos', 't3', { id: 't3' });
    await records.flush();
    // Were the process to die now, with no snapshot written, the logs alone must bring everything back.
    const crash = join(dir, 'crash');
    copyOnDisk(dir, crash);
    expect(plain(await loadCopy(crash)).todos).toEqual({ t1: { id: 't1' }, t2: { id: 't2' }, t3: { id: 't3' } });
    await rm(join(dir, 'db.json'), { recursive: true });
    await records.close();
    expect(existsSync(join(dir, 'db.json.log.sealed'))).toBe(false);
    expect(plain(await loadCopy(dir)).todos).toEqual({ t1: { id: 't1' }, t2: { id: 't2' }, t3: { id: 't3' } });
  });
});

function recordsOf(store: RecordStore): Records {
  return Object.fromEntries(COLLECTIONS.map((name) => [name, new Map(store.entries(name))])) as Records;
}
