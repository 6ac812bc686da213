import { is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import * as schema from '../drizzle/schema.ts';

for (const t of Object.values(schema)) {
  console.log(is(t, PgTable));
  if (is(t, PgTable)) console.log(getTableConfig(t).columns.map((c) => [c.name, c.default]));
}
