import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store';

/**
 * The PostgreSQL the suites run against, found once by `postgres-setup.ts` (vitest's global setup): the URL, or ''
 * when none answered and the suites are skipped. Each suite works in schemas of its own, dropped afterwards.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export const postgresUrl: string = inject('postgresUrl');

/** `describe`, run only when a PostgreSQL server answered (see `postgres-setup.ts` for the one line it prints). */
export const describePostgres = describe.runIf(postgresUrl !== '');

/** A schema name no other suite uses. */
export function uniqueSchema(purpose: string): string {
  return `test_${purpose}_${randomBytes(5).toString('hex')}`;
}

/** The rows of one statement, on a connection of its own (a test looking at the tables behind the store's back). */
export async function queryRows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await queryRows(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
}

/** An opened store on `schema` (a second call on the same schema is a second instance). */
export async function openPostgresStore(schema: string, poolSize = 3): Promise<PostgresStore> {
  const store = new PostgresStore({ url: postgresUrl, schema, poolSize });
  await store.open();
  return store;
}
