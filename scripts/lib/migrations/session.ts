import { type NodeDatabase, openNodeDatabase } from '../node-database.ts';
import { describeDatabase } from '../operator/database-url.ts';
import { MigrationError } from './errors.ts';
import type { Session } from './ledger.ts';

export interface MigrationConnection {
  session: Session;
  /** The same database through drizzle, for the schema diff. */
  database: NodeDatabase;
}

/**
 * Holds one connection for a whole run (the advisory lock belongs to it) and always gives it back.
 * A database that cannot be reached is a clear error naming host, port and database, never the password.
 */
export async function withMigrationSession<T>(
  url: string,
  work: (connection: MigrationConnection) => Promise<T>,
): Promise<T> {
  const database = await openNodeDatabase(url);
  try {
    const client = await database.db.$client.connect().catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(
        'unreachable',
        `Cannot reach the database at ${describeDatabase(url)} (${reason || 'connection failed'}). ` +
          'Is it running and is DATABASE_URL right? For the local database, start it with `npm run dev`.',
      );
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
