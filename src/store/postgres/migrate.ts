import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../../log';
import { CONNECT_TIMEOUT_MS } from './settings';

/**
 * The store's tables are created and changed by the numbered SQL files in `migrations/`, applied in order by
 * node-pg-migrate when a store opens. Each file runs once per schema (node-pg-migrate records it in the schema's
 * `pgmigrations` table). Instances starting together take turns through an advisory lock of their schema: the first
 * applies what is missing, the others wait for it and find nothing left to do.
 */

/** Beside this file in the sources; `npm run build` copies it beside `dist/main.js`, where the bundle looks. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
export const MIGRATIONS_TABLE = 'pgmigrations';

export async function migrate(url: string, schema: string, logger?: Logger): Promise<string[]> {
  // A client of its own: node-pg-migrate sets the session's search_path to the schema, which must not leak into the
  // pool's connections.
  const client = new pg.Client({ connectionString: url, application_name: 'feishu-todo-bot migrate', connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    // CREATE SCHEMA IF NOT EXISTS needs the right to create in the database even when the schema exists: a user that
    // owns its schema and no more (a managed database's least privilege) asks only when there is none.
    const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      schema,
      createSchema: rowCount === 0,
      migrationsTable: MIGRATIONS_TABLE,
      singleTransaction: true,
      lockValue: migrationLockKey(schema),
      advisoryLockMode: 'wait',
      logger: {
        info: (line) => logger?.debug({ module: 'migrate', schema }, line),
        warn: (line) => logger?.warn({ module: 'migrate', schema }, line),
        error: (line) => logger?.error({ module: 'migrate', schema }, line),
      },
    });
    const names = applied.map((migration) => migration.name);
    if (names.length > 0) logger?.info({ schema, migrations: names }, 'database migrated');
    return names;
  } finally {
    await client.end();
  }
}

/** One lock per schema (a whole number below 2^48, as node-pg-migrate writes it into its SQL). */
function migrationLockKey(schema: string): number {
  return createHash('sha256').update(`feishu-todo-bot:migrate:${schema}`).digest().readUIntBE(0, 6);
}
