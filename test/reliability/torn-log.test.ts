import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordStore } from '../../src/store/embedded/records';
import { FilePersistence } from '../../src/store/embedded/snapshot-log';
import { figure, tempDirs } from './support';

/**
 * What a crash can leave of the change log: any prefix of the bytes written, cut at any byte (a SIGKILL during a
 * write of more than a page, a power cut before the fsync). The bot writes the changes of one step together on
 * purpose (an event id with the job it causes; a form marked "submitting" with its to-do and the job that posts
 * it), so a replay must apply a batch whole or not at all, and a torn tail must not poison the runs after it.
 *
 * A "crash" here is `persistence.close()` without `RecordStore.close()`: the file is released, nothing is compacted.
 */

const tempDir = tempDirs('todo-torn-');
const tempFile = async () => join(await tempDir(), 'db.json');

/** Opens the store, runs `work`, then "crashes" (releases the file without compacting). */
async function run(file: string, work: (records: RecordStore) => Promise<void> | void): Promise<RecordStore> {
  const persistence = new FilePersistence(file, 0);
  const records = new RecordStore(persistence);
  await records.open();
  await work(records);
  await persistence.close();
  return records;
}

describe('a change log torn by a crash', () => {
  it('replays every batch whole or not at all, wherever the cut falls', async () => {
    const file = await tempFile();
    // A Submit click: the to-do, the form marked as submitting, and the job that posts it, in one batch.
    await run(file, async (records) => {
      records.put('events', 'ev_open', 1);
      await records.flush();
      records.put('todos', 'todo_1', { id: 'todo_1', status: 'posting', text: 'x'.repeat(3_000) });
      records.put('forms', 'form_1', { id: 'form_1', status: 'submitting', todoId: 'todo_1' });
      records.put('jobs', 'todo.post:todo_1', { id: 'todo.post:todo_1', kind: 'todo.post', payload: { formId: 'form_1', todoId: 'todo_1' } });
      await records.flush();
    });
    const full = await readFile(`${file}.log`);
    const firstBatchEnd = full.indexOf('\n') + 1;

    let partial = 0;
    let cuts = 0;
    for (let cut = firstBatchEnd; cut <= full.length; cut += cut < full.length - 64 ? 97 : 1) {
      cuts++;
      const copy = await tempFile();
      await writeFile(`${copy}.log`, full.subarray(0, cut));
      const records = await run(copy, () => undefined);
      const present = ['todos:todo_1', 'forms:form_1', 'jobs:todo.post:todo_1'].filter((id) => {
        const [collection, ...key] = id.split(':');
        return records.get(collection as 'todos', key.join(':')) !== undefined;
      });
      if (present.length !== 0 && present.length !== 3) partial++;
      expect(records.get('events', 'ev_open')).toBe(1);
    }
    figure(`torn log — a 3-change batch cut at ${cuts} offsets: ${partial} replays applied part of it (a form stuck "submitting" with no job)`);
    expect(partial).toBe(0);
  });

  it('a torn tail loses nothing acknowledged after it and does not stop a later start', async () => {
    const file = await tempFile();
    await run(file, async (records) => {
      records.put('todos', 't1', { id: 't1' });
      await records.flush();
    });
    // The first crash tore the last line.
    await writeFile(`${file}.log`, `${await readFile(`${file}.log`, 'utf8')}["todos","t2",{"id"`);
    // The second run works, acknowledges two more writes, and crashes too (no graceful stop, so no compaction).
    await run(file, async (records) => {
      expect(records.get('todos', 't2')).toBeUndefined();
      records.put('todos', 't3', { id: 't3' });
      await records.flush();
      records.put('todos', 't4', { id: 't4' });
      await records.flush();
    });
    // The third run starts, with everything that was acknowledged.
    const third = await run(file, () => undefined);
    expect(third.get('todos', 't1')).toEqual({ id: 't1' });
    expect(third.get('todos', 't2')).toBeUndefined();
    expect(third.get('todos', 't3')).toEqual({ id: 't3' });
    expect(third.get('todos', 't4')).toEqual({ id: 't4' });
  });
});
