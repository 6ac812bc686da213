import { fromBase64Url, toBase64Url, utf8 } from '../crypto/encoding.ts';
import type { Database } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { countLiveSessions, findPeople, type PeoplePosition, type PersonRow } from '../db/people.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { isStorableTime } from '../validation/operator-input.ts';

/**
 * Why a person is admitted: today only the per-person whitelist flag. The admission rules
 * (organization, team, login) will add their own names here; null is "not admitted".
 */
export type AdmittedBy = 'whitelist' | null;

export interface LiveSessions {
  /** The service's id; null for the gateway's own landing session. */
  service: string | null;
  live: number;
  latestExpiresAt: Date;
}

export interface Person {
  id: string;
  githubId: string;
  login: string | null;
  admittedBy: AdmittedBy;
  /** Null for a row from before sign-ins were timed (the old system's, or before 20261201141000). */
  lastSignInAt: Date | null;
  firstSeenAt: Date;
  sessions: LiveSessions[];
}

export interface PeopleQuery {
  /** Only people who signed in and were not admitted, so the operator can let them in. */
  pending: boolean;
  limit: number;
  /** From the previous page's `nextCursor`. */
  cursor?: string;
}

export const MAX_PEOPLE_PAGE = 500;

/** A people query out of bounds (HTTP 400, exit 2). */
export class PeopleQueryError extends GatewayError<'invalid_query'> {
  constructor(message: string) {
    super('invalid_query', 'input', message);
  }
}

/** The one place that says why a person is admitted (the admission rules will join it here). */
export function admittedBy(person: Pick<PersonRow, 'isWhitelisted'>): AdmittedBy {
  return person.isWhitelisted ? 'whitelist' : null;
}

/**
 * People the operator can see, newest sign-in first, paged with an opaque cursor: each with why
 * they are admitted and their live sessions per service. Two statements per page, whatever its size.
 */
export async function listPeople(
  db: Database,
  query: PeopleQuery,
  now = new Date(),
): Promise<{ people: Person[]; nextCursor: string | null }> {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PEOPLE_PAGE)
    throw new PeopleQueryError(`limit is 1 to ${MAX_PEOPLE_PAGE}.`);
  const rows = await findPeople(
    db,
    { notWhitelisted: query.pending, ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}) },
    query.limit + 1,
  );
  const page = rows.slice(0, query.limit);
  const sessions = await countLiveSessions(
    db,
    page.map((row) => row.id),
    now,
  );
  const byPerson = new Map<string, LiveSessions[]>();
  for (const row of sessions) {
    const list = byPerson.get(row.userId) ?? [];
    list.push({ service: row.serviceIdentifier, live: row.live, latestExpiresAt: row.latestExpiresAt });
    byPerson.set(row.userId, list);
  }
  const people = page.map((row) => ({
    id: row.id,
    githubId: row.githubUserId,
    login: row.githubLogin,
    admittedBy: admittedBy(row),
    lastSignInAt: row.lastSignInAt,
    firstSeenAt: row.createdAt,
    sessions: byPerson.get(row.id) ?? [],
  }));
  const last = page.at(-1);
  return { people, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

function encodeCursor(last: PeoplePosition): string {
  return toBase64Url(utf8(JSON.stringify([last.lastSignInAt?.toISOString() ?? null, last.id])));
}

function decodeCursor(cursor: string): PeoplePosition {
  const bytes = fromBase64Url(cursor);
  try {
    const [at, id] = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as [string | null, string];
    const date = at === null ? null : new Date(at);
    // Only what this gateway can have issued: null or a time Postgres holds, and a row's id.
    if (
      (at !== null && (typeof at !== 'string' || !date || !isStorableTime(date))) ||
      typeof id !== 'string' ||
      !UUID_PATTERN.test(id)
    )
      throw new Error('bad');
    return { lastSignInAt: date, id };
  } catch {
    throw new PeopleQueryError('The cursor is not one this gateway gave out; start from the first page.');
  }
}
