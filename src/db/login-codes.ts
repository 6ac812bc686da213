import { and, eq, isNull } from 'drizzle-orm';
import { loginCodes } from '../../drizzle/schema.ts';
import { randomBytes, sha256, toBase64Url, toHex } from '../crypto/encoding.ts';
import type { Database } from './client.ts';

/** How long a service has to exchange a login code. */
export const LOGIN_CODE_TTL_SECONDS = 60;

/** A new single-use code; only its SHA-256 is stored, the code itself goes into the redirect. */
export async function createLoginCode(
  db: Database,
  grant: { serviceId: string; userId: string; redirectUri: string },
  now = new Date(),
): Promise<string> {
  const code = toBase64Url(randomBytes(32));
  await db.insert(loginCodes).values({
    codeHash: toHex(await sha256(code)),
    serviceId: grant.serviceId,
    userId: grant.userId,
    redirectUri: grant.redirectUri,
    expiresAt: new Date(now.getTime() + LOGIN_CODE_TTL_SECONDS * 1000),
  });
  return code;
}

export interface ConsumedLoginCode {
  serviceId: string;
  userId: string;
  redirectUri: string;
  expiresAt: Date;
}

/**
 * Marks the code used and returns what it grants, in one statement: of two concurrent attempts
 * exactly one gets it. A code presented by the wrong service is used up all the same.
 */
export async function consumeLoginCode(
  db: Database,
  code: string,
  now = new Date(),
): Promise<ConsumedLoginCode | null> {
  const [row] = await db
    .update(loginCodes)
    .set({ usedAt: now })
    .where(and(eq(loginCodes.codeHash, toHex(await sha256(code))), isNull(loginCodes.usedAt)))
    .returning({
      serviceId: loginCodes.serviceId,
      userId: loginCodes.userId,
      redirectUri: loginCodes.redirectUri,
      expiresAt: loginCodes.expiresAt,
    });
  return row ?? null;
}
