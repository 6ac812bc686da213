import bcrypt from 'bcryptjs';
import { serviceRegistry } from '../../../drizzle/schema.ts';
import type { TestDatabase } from './test-database.ts';

/**
 * A service as the old system left it: a bcrypt hash of `legacyKey` and no key id (cost 4 unless
 * asked: the cost changes nothing but the time). Returns its identifier and row id.
 */
export async function insertLegacyService(
  database: TestDatabase,
  legacyKey: string,
  options: { cost?: number; scopes?: string[] } = {},
): Promise<{ identifier: string; id: string }> {
  const identifier = `legacy-${crypto.randomUUID().slice(0, 8)}`;
  const [row] = await database.use((db) =>
    db
      .insert(serviceRegistry)
      .values({
        serviceIdentifier: identifier,
        displayName: 'Old service',
        apiKeyHash: bcrypt.hashSync(legacyKey, options.cost ?? 4),
        allowedScopes: options.scopes ?? ['users:verify'],
      })
      .returning({ id: serviceRegistry.id }),
  );
  return { identifier, id: row?.id ?? '' };
}
