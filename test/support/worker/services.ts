import { eq, sql } from 'drizzle-orm';
import { serviceRegistry, users } from '../../../drizzle/schema.ts';
import { generateServiceKey } from '../../../src/crypto/service-keys.ts';
import type { TestDatabase } from './test-database.ts';

export interface RegisteredService {
  id: string;
  identifier: string;
  key: string;
}

/** Registers a service directly in the database, as the operator command would. */
export async function registerService(
  database: TestDatabase,
  options: { identifier?: string; redirectUris?: string[]; scopes?: string[]; active?: boolean } = {},
): Promise<RegisteredService> {
  const identifier = options.identifier ?? `svc-${crypto.randomUUID().slice(0, 8)}`;
  const { key, keyId, hash } = await generateServiceKey();
  const handle = database.open();
  try {
    const [row] = await handle.db
      .insert(serviceRegistry)
      .values({
        serviceIdentifier: identifier,
        displayName: `Test ${identifier}`,
        apiKeyHash: hash,
        keyId,
        allowedScopes: options.scopes ?? ['users:verify'],
        redirectUris: options.redirectUris ?? [],
        isActive: options.active ?? true,
      })
      .returning({ id: serviceRegistry.id });
    return { id: row?.id ?? '', identifier, key };
  } finally {
    await handle.end();
  }
}

export async function whitelist(database: TestDatabase, githubLogin: string, allowed = true): Promise<void> {
  const handle = database.open();
  try {
    await handle.db
      .update(users)
      .set({ isWhitelisted: allowed })
      .where(eq(sql`lower(${users.githubLogin})`, githubLogin.toLowerCase()));
  } finally {
    await handle.end();
  }
}
