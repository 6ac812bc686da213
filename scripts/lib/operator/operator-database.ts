import { type NodeDatabase, openNodeDatabase } from '../node-database.ts';
import { rootDir } from './cli.ts';
import { resolveDatabaseUrl } from './database-url.ts';

/** Runs an operator command's work against DATABASE_URL (environment, else .dev.vars). */
export async function withOperatorDatabase<T>(work: (database: NodeDatabase) => Promise<T>): Promise<T> {
  const database = await openNodeDatabase(resolveDatabaseUrl({ rootDir }));
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}
