import { type NodeDatabase, openNodeDatabase } from '../node-database.ts';
import { explainDatabaseFailure, unreachableDatabase } from '../operator/database-cause.ts';
import type { Session } from './ledger.ts';

export interface MigrationConnection {
  session: Session;
  /** The same database through drizzle, for the schema diff. */
  database: NodeDatabase;
}

/**
 * Holds one connection for a whole run (the advisory lock belongs to it) and always gives it back.
 * A database that cannot be reached, refuses the password or does not exist is one line naming that
 * cause, host, port and database (database-cause.ts, as every operator command says it), never the password.
 */
export async function withMigrationSession<T>(
  url: string,
  work: (connection: MigrationConnection) => Promise<T>,
): Promise<T> {
  const database = await openNodeDatabase(url);
  try {
    const client = await database.db.$client.connect().catch(async (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw (await explainDatabaseFailure(error, url)) ?? unreachableDatabase(url, reason, error);
    });
    try {
      return await work({ session: client, database });
    } finally {
      client.release();
    }
  } finally {
    await database.close();
  }
}
