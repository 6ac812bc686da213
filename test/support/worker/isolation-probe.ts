import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { createTestDatabase } from './test-database.ts';

/**
 * Writes rows tagged with `writer` into a table both isolation test files use, pausing between
 * writes so that two files running in parallel interleave, then checks that only its own rows are
 * there. Rows persist, so shared databases would show up even if the files ran one after the other.
 */
export async function provesIsolation(writer: string): Promise<void> {
  const database = await createTestDatabase();
  const handle = database.open();
  try {
    await handle.db.execute(sql`create table if not exists isolation_probe (writer text not null, n int not null)`);
    for (let n = 0; n < 20; n += 1) {
      await handle.db.execute(sql`insert into isolation_probe (writer, n) values (${writer}, ${n})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const result = await handle.db.execute<{ writer: string; rows: number }>(
      sql`select writer, count(*)::int as rows from isolation_probe group by writer`,
    );
    expect(result.rows).toEqual([{ writer, rows: 20 }]);
  } finally {
    await handle.end();
  }
}
