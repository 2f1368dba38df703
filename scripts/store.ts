import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { loadStoreConfig } from '../src/config';
import { ErrorCode, errorCode } from '../src/errors';
import { describeStore, openStore } from '../src/store';
import type { ExportedRecord } from '../src/store/store';

/**
 * `npm run store -- export [file]` writes every record of the configured store as JSON lines (to stdout without a
 * file); `npm run store -- import [file]` reads such lines (from stdin without a file) into the configured store,
 * which must be empty. The store is chosen as the bot chooses it: PostgreSQL when DATABASE_URL is set, the file at
 * DATA_FILE otherwise. So moving from the file store to PostgreSQL is an export with DATABASE_URL unset, then an
 * import with it set; the bot is stopped meanwhile (the file store admits one process).
 */

const USAGE = 'usage: npm run store -- export [file]   |   npm run store -- import [file]';
const COLLECTIONS = new Set<string>(['forms', 'todos', 'chats', 'events', 'jobs']);

async function main(): Promise<number> {
  const [command, file, ...rest] = process.argv.slice(2);
  if ((command !== 'export' && command !== 'import') || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadStoreConfig(process.env);
  if (command === 'export' && config.databaseUrl === undefined && !existsSync(config.dataFile) && !existsSync(`${config.dataFile}.log`)) {
    throw new Error(`there is no file store at ${config.dataFile} (DATA_FILE): nothing to export`);
  }
  // Read before the store opens: a malformed line must change nothing.
  const records = command === 'import' ? await readRecords(file) : [];
  const store = await openStore(config);
  try {
    const count = command === 'export' ? await writeRecords(store.exportRecords(), file) : await store.importRecords(toAsync(records));
    console.error(`${command === 'export' ? 'exported' : 'imported'} ${count} records ${command === 'export' ? 'from' : 'into'} ${describeStore(config)}`);
    return 0;
  } finally {
    await store.close();
  }
}

async function writeRecords(records: AsyncIterable<ExportedRecord>, file: string | undefined): Promise<number> {
  let count = 0;
  async function* lines() {
    for await (const record of records) {
      count++;
      yield `${JSON.stringify(record)}\n`;
    }
  }
  if (file === undefined) {
    for await (const line of lines()) if (!process.stdout.write(line)) await once(process.stdout, 'drain');
  } else {
    if (existsSync(file)) throw new Error(`${file} already exists: export into a new file`);
    await pipeline(lines(), createWriteStream(file, { flags: 'wx' }));
  }
  return count;
}

async function readRecords(file: string | undefined): Promise<ExportedRecord[]> {
  const lines = createInterface({ input: file === undefined ? process.stdin : createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  const records: ExportedRecord[] = [];
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    let record: Partial<ExportedRecord>;
    try {
      record = JSON.parse(line);
    } catch {
      throw new Error(`line ${number} is not JSON; nothing was imported`);
    }
    if (typeof record?.collection !== 'string' || !COLLECTIONS.has(record.collection) || typeof record.key !== 'string' || record.value === undefined) {
      throw new Error(`line ${number} is not an exported record ({"collection","key","value"}); nothing was imported`);
    }
    records.push(record as ExportedRecord);
  }
  return records;
}

async function* toAsync<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(errorCode(error) === ErrorCode.ConfigInvalid ? error.message : `npm run store: ${error.message}`);
    process.exit(1);
  },
);
