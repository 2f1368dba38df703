import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { RECORD_VERSION } from '../../src/domain/model';
import { EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { FilePersistence } from '../../src/store/embedded/snapshot-log';
import type { ExportedRecord, Job } from '../../src/store/store';
import { bundled } from '../reliability/support';
import { form, job, todo } from '../store.contract';
import { describePostgres, dropSchema, openPostgresStore, postgresUrl, uniqueSchema } from '../support/postgres';

const run = promisify(execFile);

/** `npm run store -- <args>` as an operator runs it (bundled once for the run), in `cwd` (no `.env` there), with only `env` set. */
async function store(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['--enable-source-maps', bundled('store.js'), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ExportedRecord)
    .sort((a, b) => `${a.collection}:${a.key}`.localeCompare(`${b.collection}:${b.key}`));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('npm run store with the file store', () => {
  it('changes nothing when a line is not an exported record, and says which line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'todo-transfer-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'bad.jsonl'), `${JSON.stringify({ collection: 'events', key: 'e1', value: 1 })}\n{"collection":"users","key":"u","value":1}\n`);
    const result = await store(['import', join(dir, 'bad.jsonl')], { DATA_FILE: join(dir, 'db.json') }, dir);
    expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining('line 2 is not an exported record') });
    expect(await store(['export', join(dir, 'out.jsonl')], { DATA_FILE: join(dir, 'db.json') }, dir)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no file store'),
    });
  });
});

describePostgres('npm run store between the file store and PostgreSQL', () => {
  it('moves every record from the file store to PostgreSQL and back, and refuses to import into a store with data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'todo-transfer-'));
    const schema = uniqueSchema('transfer');
    cleanups.push(
      () => rm(dir, { recursive: true, force: true }),
      () => dropSchema(schema),
    );
    const dataFile = join(dir, 'db.json');
    const postgres = { DATABASE_URL: postgresUrl, DATABASE_SCHEMA: schema };

    const source = new EmbeddedStore(new FilePersistence(dataFile));
    await source.open();
    await source.commit({
      now: 5,
      eventId: 'ev_1',
      forms: [form('f1', { draftText: 'nul \u0000 and "quotes"' }), form('f2', { ownerId: 'ou_b', status: 'posted', todoId: 't1' })],
      todos: [todo('t1', { remindAt: 10, messageId: 'om_1', assigneeIds: ['ou_b'] }), todo('t2', { status: 'done' })],
      chats: [{ v: RECORD_VERSION, id: 'oc_1', language: 'en_us', updatedAt: 5 }],
      jobs: [job('j1', { lane: 'a' }), job('j2', { lane: 'a' }), job('j3', { lane: 'b', chatId: undefined })],
    });
    const [first] = (await source.claimJobs({ owner: 'x', now: 0, leaseMs: 30_000, max: 1, perChat: 8 })).jobs as [Job];
    await source.recordStep(first, 'send', { messageId: 'om_9' });
    await source.close();

    expect(await store(['export', join(dir, 'file.jsonl')], { DATA_FILE: dataFile }, dir)).toMatchObject({
      code: 0,
      stderr: expect.stringContaining('exported 9 records from the file store'),
    });
    expect(await store(['import', join(dir, 'file.jsonl')], postgres, dir)).toMatchObject({
      code: 0,
      stderr: expect.stringContaining(`imported 9 records into PostgreSQL`),
    });
    expect(await store(['import', join(dir, 'file.jsonl')], postgres, dir)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('import only into an empty store'),
    });
    expect(await store(['export', join(dir, 'postgres.jsonl')], postgres, dir)).toMatchObject({ code: 0 });
    expect(await store(['import', join(dir, 'postgres.jsonl')], { DATA_FILE: join(dir, 'back.json') }, dir)).toMatchObject({ code: 0 });
    expect(await store(['export', join(dir, 'back.jsonl')], { DATA_FILE: join(dir, 'back.json') }, dir)).toMatchObject({ code: 0 });

    const original = await lines(join(dir, 'file.jsonl'));
    expect(original.map((r) => `${r.collection}:${r.key}`)).toEqual([
      'chats:oc_1',
      'events:ev_1',
      'forms:f1',
      'forms:f2',
      'jobs:j1',
      'jobs:j2',
      'jobs:j3',
      'todos:t1',
      'todos:t2',
    ]);
    expect(await lines(join(dir, 'postgres.jsonl'))).toEqual(original);
    expect(await lines(join(dir, 'back.jsonl'))).toEqual(original);

    // The imported data works in PostgreSQL: indexes, the event seen, lanes in order with the step done.
    const imported = await openPostgresStore(schema);
    cleanups.push(() => imported.close());
    expect((await imported.form('f1'))?.draftText).toBe('nul \u0000 and "quotes"');
    expect((await imported.openTodos('oc_1')).map((t) => t.id)).toEqual(['t1']);
    expect(await imported.commit({ now: 6, eventId: 'ev_1' })).toEqual({ ok: false, reason: 'duplicate' });
    const claimed = await imported.claimJobs({ owner: 'y', now: 0, leaseMs: 30_000, max: 10, perChat: 8 });
    expect(claimed.jobs.map((j) => [j.id, j.steps])).toEqual([
      ['j1', { send: { messageId: 'om_9' } }],
      ['j3', {}],
    ]);
    // Six runs of the script, each a Node process compiling TypeScript: seconds apiece on a busy machine.
  }, 60_000);
});
