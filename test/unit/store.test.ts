import { existsSync } from 'node:fs';
import { type FileHandle, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { MemoryPersistence } from '../../src/store/embedded/persistence';
import { RecordStore } from '../../src/store/embedded/records';
import { FilePersistence, StoreFileError } from '../../src/store/embedded/snapshot-log';
import { tempDirs } from '../reliability/support';
import { storeContract } from '../store.contract';

const tempDir = tempDirs('todo-store-');
const tempFile = async () => join(await tempDir(), 'db.json');

async function opened(store: EmbeddedStore): Promise<EmbeddedStore> {
  await store.open();
  return store;
}

storeContract('embedded, in memory', { shared: false, durable: false }, async () => ({
  open: () => opened(new EmbeddedStore(new MemoryPersistence())),
}));
for (const fsyncMs of [1_000, 0]) {
  storeContract(`embedded, lowdb file${fsyncMs === 0 ? ', fsync before every acknowledgement' : ''}`, { shared: false, durable: true }, async () => {
    const file = await tempFile();
    return {
      open: () => opened(new EmbeddedStore(new FilePersistence(file, fsyncMs))),
    };
  });
}

describe('the lowdb file store', () => {
  it('keeps changes in the log and folds them into the snapshot on close', async () => {
    const file = await tempFile();
    const records = new RecordStore(new FilePersistence(file));
    await records.open();
    records.put('todos', 't1', { id: 't1' });
    await records.flush();
    expect((await readFile(`${file}.log`, 'utf8')).trim()).toBe('["todos","t1",{"id":"t1"}]');
    await records.close();
    expect(JSON.parse(await readFile(file, 'utf8')).collections.todos).toEqual({ t1: { id: 't1' } });
    expect(await readFile(`${file}.log`, 'utf8')).toBe('');
  });

  it('refuses every write once a background fsync failed, as after a failed write', async () => {
    const file = await tempFile();
    const persistence = new FilePersistence(file, 5);
    const records = new RecordStore(persistence);
    await records.open();
    const log = (persistence as unknown as { log: FileHandle }).log;
    log.datasync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    records.put('todos', 't1', { id: 't1' });
    // Acknowledged before its fsync, which fails a few milliseconds later.
    await records.flush();
    await vi.waitFor(async () => {
      records.put('todos', 't2', { id: 't2' });
      await expect(records.flush()).rejects.toThrow(/EIO/);
    });
    expect(records.writable).toBe(false);
    await records.close();
  });

  it('ignores a torn last log line left by a crash mid-append', async () => {
    const file = await tempFile();
    await writeFile(`${file}.log`, '["todos","t1",{"id":"t1"}]\n["todos","t2",{"id"');
    const records = new RecordStore(new FilePersistence(file));
    await records.open();
    expect(records.get('todos', 't1')).toEqual({ id: 't1' });
    expect(records.get('todos', 't2')).toBeUndefined();
    await records.close();
  });

  it('ignores and removes what a snapshot cut short by a crash left behind', async () => {
    const file = await tempFile();
    await writeFile(file, JSON.stringify({ v: 1, collections: { todos: { t1: { id: 't1' } } } }));
    await writeFile(`${file}.log`, '["todos","t2",{"id":"t2"}]\n');
    await writeFile(`${file}.tmp`, '{"v":1,"collections":{"todos":{"t1":');
    await writeFile(`${file}.log.next`, '');
    const records = new RecordStore(new FilePersistence(file));
    await records.open();
    expect(records.entries('todos')).toEqual([
      ['t1', { id: 't1' }],
      ['t2', { id: 't2' }],
    ]);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(existsSync(`${file}.log.next`)).toBe(false);
    await records.close();
  });

  it('refuses a corrupt data file and leaves it untouched', async () => {
    const file = await tempFile();
    await writeFile(file, '{"v":1,"collections":{');
    await expect(new RecordStore(new FilePersistence(file)).open()).rejects.toThrow(StoreFileError);
    await expect(new RecordStore(new FilePersistence(file)).open()).rejects.toThrow(/not readable JSON.*left untouched/);
    expect(await readFile(file, 'utf8')).toBe('{"v":1,"collections":{');
  });

  it('refuses a corrupt line in the middle of the log', async () => {
    const file = await tempFile();
    await writeFile(`${file}.log`, 'garbage\n["todos","t1",{}]\n');
    await expect(new RecordStore(new FilePersistence(file)).open()).rejects.toThrow(/corrupt at line 1/);
  });

  it('refuses a second opener of the same file, naming the holder, and frees the file on close', async () => {
    const file = await tempFile();
    const first = new RecordStore(new FilePersistence(file));
    await first.open();
    // Another open file description, as another process would have: the kernel's lock refuses it.
    await expect(new RecordStore(new FilePersistence(file)).open()).rejects.toThrow(
      new RegExp(`in use by another bot process \\(pid ${process.pid} on host ${hostname()}, started \\d{4}-`),
    );
    await first.close();
    const second = new RecordStore(new FilePersistence(file));
    await second.open();
    await second.close();
  });

  it('takes over a lock file an older version left (a pid in a file is no lock)', async () => {
    const file = await tempFile();
    await writeFile(`${file}.lock`, String(process.ppid));
    const records = new RecordStore(new FilePersistence(file));
    await records.open();
    expect(JSON.parse(await readFile(`${file}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await records.close();
    expect(await readFile(`${file}.lock`, 'utf8')).toBe('');
  });

  it('compacts once the log is as large as the data, sealing the log and starting a fresh one', async () => {
    const file = await tempFile();
    const records = new RecordStore(new FilePersistence(file));
    await records.open();
    for (let i = 0; i < 10_001; i++) records.put('events', `e${i}`, i);
    await records.flush();
    // The snapshot is written in the background: done when it exists and the sealed log is gone.
    const snapshotDone = () => existsSync(file) && !existsSync(`${file}.log.sealed`);
    for (let waited = 0; !snapshotDone() && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(snapshotDone()).toBe(true);
    expect(await readFile(`${file}.log`, 'utf8')).toBe('');
    expect(Object.keys(JSON.parse(await readFile(file, 'utf8')).collections.events)).toHaveLength(10_001);
    records.put('events', 'later', 1);
    await records.flush();
    expect((await readFile(`${file}.log`, 'utf8')).trim()).toBe('["events","later",1]');
    await records.close();
  });

  it('writes the changes of requests handled in one turn of the event loop as one line (group commit)', async () => {
    const file = await tempFile();
    const records = new RecordStore(new FilePersistence(file));
    await records.open();
    // Three requests handled in one turn of the event loop, as separate callbacks, each staging its change and
    // waiting for it to be durable before answering.
    const acknowledged = await new Promise<Array<Promise<void>>>((resolve) => {
      const waits: Array<Promise<void>> = [];
      for (const id of ['a', 'b', 'c']) {
        setImmediate(() => {
          records.put('events', id, 1);
          waits.push(records.flush());
          if (waits.length === 3) resolve(waits);
        });
      }
    });
    await Promise.all(acknowledged);
    records.put('events', 'd', 1);
    await records.flush();
    const lines = (await readFile(`${file}.log`, 'utf8')).trim().split('\n');
    expect(lines).toEqual(['[["events","a",1],["events","b",1],["events","c",1]]', '["events","d",1]']);
    await records.close();
  });
});
