import { describePostgres, dropSchema, openPostgresStore, uniqueSchema } from '../support/postgres';
import { storeContract } from '../store.contract';

describePostgres('the PostgreSQL store', () => {
  storeContract('postgres', { shared: true, durable: true }, async () => {
    const schema = uniqueSchema('contract');
    return { open: () => openPostgresStore(schema), cleanup: () => dropSchema(schema) };
  });
});
