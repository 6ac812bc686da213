import { type NodeDatabase, openNodeDatabase } from '../node-database.ts';
import { rootDir } from './cli.ts';
import { explainDatabaseFailure } from './database-cause.ts';
import { resolveDatabaseUrl } from './database-url.ts';

/**
 * Runs an operator command's work against DATABASE_URL (environment, else .dev.vars). A database
 * that is down, refuses the password, does not exist or has no gateway tables fails with one line
 * naming that cause (database-cause.ts), not the driver's error around the query.
 */
export async function withOperatorDatabase<T>(work: (database: NodeDatabase) => Promise<T>): Promise<T> {
  const url = resolveDatabaseUrl({ rootDir });
  const database = await openNodeDatabase(url);
  try {
    return await work(database);
  } catch (error) {
    throw (await explainDatabaseFailure(error, url)) ?? error;
  } finally {
    await database.close();
  }
}
