import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';
import type { PostgresOptions } from '../../src/store/postgres/database';
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

/** An opened store on `schema` (a second call on the same schema is a second instance); 3 connections unless told. */
export async function openPostgresStore(schema: string, options: Omit<PostgresOptions, 'url' | 'schema'> = {}): Promise<PostgresStore> {
  const store = new PostgresStore({ url: postgresUrl, schema, poolSize: 3, ...options });
  await store.open();
  return store;
}

/**
 * Schemas for tests that each need an empty store (the store contract, the fleet-wide limits), migrated once and
 * emptied between tests: migrating a fresh schema and dropping it afterwards took about 150 ms of the 250 ms such a
 * test took. A schema given back has every row of every table but the migrations' own deleted, on one connection kept
 * for the file (12 ms, against 90 ms for a connection of its own and TRUNCATE), and goes to the next test. Identity
 * columns count on from where they were, which a store only uses for order. `dropAll` drops the schemas once the file
 * is done. The jobs suite keeps fresh schemas: its backlogs of thousands of rows would leave the next test dead rows.
 */
export function emptySchemas(purpose: string) {
  const free: string[] = [];
  const made: string[] = [];
  let admin: Promise<pg.Client> | undefined;
  const connect = async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    return client;
  };
  return {
    /** A schema with no rows: migrated already, or to be migrated by the store that opens it. */
    take(): string {
      const reused = free.pop();
      if (reused !== undefined) return reused;
      const schema = uniqueSchema(purpose);
      made.push(schema);
      return schema;
    },
    /** After every store on `schema` is closed. */
    async giveBack(schema: string): Promise<void> {
      admin ??= connect();
      const client = await admin;
      const { rows } = await client.query<{ name: string }>(
        `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = $1 AND tablename <> 'pgmigrations'`,
        [schema],
      );
      if (rows.length > 0) await client.query(rows.map((row) => `DELETE FROM ${row.name};`).join(''));
      free.push(schema);
    },
    async dropAll(): Promise<void> {
      free.length = 0;
      await (await admin)?.end();
      admin = undefined;
      for (const schema of made.splice(0)) await dropSchema(schema);
    },
  };
}
