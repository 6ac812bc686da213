import { and, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import { type LoginCode, loginCodes, sessions } from '../../drizzle/schema.ts';
import { randomBytes, sha256, toBase64Url, toHex } from '../crypto/encoding.ts';
import type { Database, Queryable } from './client.ts';

/** How long a service has to exchange a login code. */
export const LOGIN_CODE_TTL_SECONDS = 60;

/** A new single-use code; only its SHA-256 is stored, the code itself goes into the redirect. */
export async function createLoginCode(
  db: Queryable,
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

export type ConsumedLoginCode = Pick<LoginCode, 'serviceId' | 'userId' | 'redirectUri' | 'expiresAt' | 'codeChallenge'>;

/** The session a replayed code's first use made, revoked by the replay. */
export interface ReplayRevokedSession {
  sessionId: string;
  userId: string;
  serviceId: string;
}

export type LoginCodeUse =
  | { kind: 'granted'; grant: ConsumedLoginCode }
  /** The same service presented the code again within its lifetime: someone else has it. */
  | { kind: 'replayed'; revokedSession: string }
  | { kind: 'unknown' };

/**
 * Marks the code used, recording the id of the session it is about to be exchanged for, and
 * returns what it grants, in one statement: of two concurrent attempts exactly one gets it. A code
 * presented by the wrong service is used up all the same.
 *
 * When that finds nothing, the code may be a replay: presented again by the service it was issued
 * to, within its lifetime. Then the session of its first use is revoked, in one statement that
 * works whether or not that session row exists yet: a replay that arrives while the first
 * exchange is still creating the session inserts it revoked, and the first exchange's insert then
 * fails on the id (`createSession` reports that as a conflict). Only the owning service can cause
 * this, and only within the code's minute: a link opened again hours later revokes nothing.
 * `onReplay` runs in the revoke's transaction (its `session.ended` event commits with it).
 */
export async function useLoginCode(
  db: Database,
  code: string,
  use: { sessionId: string; serviceId: string },
  now = new Date(),
  onReplay?: (tx: Queryable, revoked: ReplayRevokedSession) => Promise<void>,
): Promise<LoginCodeUse> {
  const codeHash = toHex(await sha256(code));
  const [row] = await db
    .update(loginCodes)
    .set({ usedAt: now, sessionId: use.sessionId })
    .where(and(eq(loginCodes.codeHash, codeHash), isNull(loginCodes.usedAt)))
    .returning({
      serviceId: loginCodes.serviceId,
      userId: loginCodes.userId,
      redirectUri: loginCodes.redirectUri,
      expiresAt: loginCodes.expiresAt,
      codeChallenge: loginCodes.codeChallenge,
    });
  if (row) return { kind: 'granted', grant: row };
  const revokedSession = await db.transaction(async (tx) => {
    const revoked = await tx.execute<{ id: string; user_id: string; service_id: string }>(sql`
    insert into ${sessions} (id, user_id, service_id, expires_at, revoked_at, created_at)
    select session_id, user_id, service_id, used_at, used_at, used_at
      from ${loginCodes}
     where ${and(
       eq(loginCodes.codeHash, codeHash),
       eq(loginCodes.serviceId, use.serviceId),
       isNotNull(loginCodes.sessionId),
       gt(loginCodes.expiresAt, now),
     )}
    on conflict (id) do update set revoked_at = excluded.revoked_at where ${sessions.revokedAt} is null
    returning id, user_id, service_id`);
    const [row] = revoked.rows;
    if (row && onReplay) await onReplay(tx, { sessionId: row.id, userId: row.user_id, serviceId: row.service_id });
    return row?.id;
  });
  return revokedSession ? { kind: 'replayed', revokedSession } : { kind: 'unknown' };
}

/**
 * Uses up the person's login codes that no service has exchanged yet (at one service, or at
 * all): a sign-out must not be undone by a code already on its way to a service. A used code with
 * no session recorded is simply invalid at the exchange. Only unexpired codes can be waiting, so
 * the expiry index finds them.
 */
export async function voidUnexchangedLoginCodes(
  db: Queryable,
  userId: string,
  which: { serviceId: string } | 'all',
  now = new Date(),
): Promise<void> {
  const conditions = [gt(loginCodes.expiresAt, now), eq(loginCodes.userId, userId), isNull(loginCodes.usedAt)];
  if (which !== 'all') conditions.push(eq(loginCodes.serviceId, which.serviceId));
  await db
    .update(loginCodes)
    .set({ usedAt: now })
    .where(and(...conditions));
}
