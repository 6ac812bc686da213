import { and, eq } from 'drizzle-orm';
import { serviceRegistry, sessions } from '../../drizzle/schema.ts';
import type { Database } from './client.ts';
import { UUID_PATTERN } from './ids.ts';

/**
 * The name of a service the person has had a session at, for the landing's "Signed out of
 * <name>." (`/?signed_out_of=<id>`). Null for anything else (a malformed id, a service they never
 * used, one nobody has): a crafted link cannot make the page name a service the person never saw.
 */
export async function signedOutServiceName(db: Database, userId: string, serviceId: string): Promise<string | null> {
  if (!UUID_PATTERN.test(serviceId)) return null;
  const [row] = await db
    .select({ name: serviceRegistry.displayName })
    .from(serviceRegistry)
    .innerJoin(sessions, and(eq(sessions.serviceId, serviceRegistry.id), eq(sessions.userId, userId)))
    .where(eq(serviceRegistry.id, serviceId))
    .limit(1);
  return row?.name ?? null;
}
