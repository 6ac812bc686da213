import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import { loginCodes } from '../../drizzle/schema.ts';
import { randomBytes, sha256, toBase64Url, toHex } from '../crypto/encoding.ts';
import type { Database } from './client.ts';

/** How long a service has to exchange a login code. */
export const LOGIN_CODE_TTL_SECONDS = 60;

/** A new single-use code; only its SHA-256 is stored, the code itself goes into the redirect. */
export async function createLoginCode(
  db: Database,
  grant: { serviceId: string; userId: string; redirectUri: string; codeChallenge: string | null },
  now = new Date(),
): Promise<string> {
  const code = toBase64Url(randomBytes(32));
  await db.insert(loginCodes).values({
    codeHash: toHex(await sha256(code)),
    serviceId: grant.serviceId,
    userId: grant.userId,
    redirectUri: grant.redirectUri,
    codeChallenge: grant.codeChallenge,
    expiresAt: new Date(now.getTime() + LOGIN_CODE_TTL_SECONDS * 1000),
  });
  return code;
}

export interface ConsumedLoginCode {
  serviceId: string;
  userId: string;
  redirectUri: string;
  expiresAt: Date;
  codeChallenge: string | null;
}

export type LoginCodeUse =
  | { kind: 'granted'; grant: ConsumedLoginCode }
  /** The code was used before: someone else has it. `sessionId` is what its first use was to issue. */
  | { kind: 'replayed'; sessionId: string | null }
  | { kind: 'unknown' };

/**
 * Marks the code used, recording the id of the session it is about to be exchanged for, and
 * returns what it grants, in one statement: of two concurrent attempts exactly one gets it. A code
 * presented by the wrong service is used up all the same. Only when that finds nothing does a
 * second query ask whether the code was used before (a replay).
 */
export async function useLoginCode(
  db: Database,
  code: string,
  sessionId: string,
  now = new Date(),
): Promise<LoginCodeUse> {
  const codeHash = toHex(await sha256(code));
  const [row] = await db
    .update(loginCodes)
    .set({ usedAt: now, sessionId })
    .where(and(eq(loginCodes.codeHash, codeHash), isNull(loginCodes.usedAt)))
    .returning({
      serviceId: loginCodes.serviceId,
      userId: loginCodes.userId,
      redirectUri: loginCodes.redirectUri,
      expiresAt: loginCodes.expiresAt,
      codeChallenge: loginCodes.codeChallenge,
    });
  if (row) return { kind: 'granted', grant: row };
  const [used] = await db
    .select({ sessionId: loginCodes.sessionId })
    .from(loginCodes)
    .where(and(eq(loginCodes.codeHash, codeHash), isNotNull(loginCodes.usedAt)));
  return used ? { kind: 'replayed', sessionId: used.sessionId } : { kind: 'unknown' };
}
