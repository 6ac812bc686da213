import {
  type AdmissionDecision,
  type AdmissionRefusal,
  decideAdmission,
  type MembershipBounds,
} from '../admission/decide.ts';
import { describeRule } from '../admission/rule.ts';
import { fromBase64Url, toBase64Url, utf8 } from '../crypto/encoding.ts';
import { findLiveRules } from '../db/admission-rules.ts';
import type { Database } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import type { AdmissionFacts } from '../db/membership-checks.ts';
import { countLiveSessions, findPeople, type PeoplePosition } from '../db/people.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { isStorableTime } from '../validation/operator-input.ts';

/**
 * Why a person is admitted, as verify decides it (decideAdmission): their whitelist flag, or a
 * rule (a login rule naming them, or an org or team rule their last membership check found them
 * in), with what the rule admits in words (describeRule); null is "not admitted".
 */
export type AdmittedBy =
  | { kind: 'whitelist' }
  /** `throughCheck`: an org or team rule, admitting as of `membershipCheckedAt`; else a login rule. */
  | { kind: 'rule'; ruleId: string; admits: string; throughCheck: boolean }
  | null;

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
  /** Which check refuses them (verify's `code`); null when admitted. */
  refusedCode: AdmissionRefusal | null;
  /** When GitHub last answered their membership check (org and team rules); null: never. */
  membershipCheckedAt: Date | null;
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

/**
 * People the operator can see, newest sign-in first, paged with an opaque cursor: each with why
 * they are admitted (or which check refuses them), decided from the same facts and by the same
 * decideAdmission as verify, and their live sessions per service. Two statements per page,
 * whatever its size, and one more for the rules' descriptions when a rule admits someone on it.
 */
export async function listPeople(
  db: Database,
  query: PeopleQuery,
  bounds: MembershipBounds,
  now = new Date(),
): Promise<{ people: Person[]; nextCursor: string | null }> {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PEOPLE_PAGE)
    throw new PeopleQueryError(`limit is 1 to ${MAX_PEOPLE_PAGE}.`);
  const rows = await findPeople(
    db,
    {
      ...(query.pending ? { refusedAt: { now, hardSeconds: bounds.hardSeconds } } : {}),
      ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
    },
    query.limit + 1,
  );
  const page = rows.slice(0, query.limit);
  const decided = page.map((row) => ({ row, decision: decideAdmission(row, bounds, now) }));
  const admitsRule = await ruleDescriptions(
    db,
    decided.map(({ decision }) => decision),
  );
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
  const people = decided.map(({ row, decision }) => ({
    id: row.id,
    githubId: row.githubUserId,
    login: row.githubLogin,
    ...admission(row, decision, admitsRule),
    membershipCheckedAt: row.checkedAt,
    lastSignInAt: row.lastSignInAt,
    firstSeenAt: row.createdAt,
    sessions: byPerson.get(row.id) ?? [],
  }));
  const last = page.at(-1);
  return { people, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

/** What each rule that admits someone on the page admits, in words: one read of the live rules, if any. */
async function ruleDescriptions(db: Database, decisions: AdmissionDecision[]): Promise<Map<string, string>> {
  if (!decisions.some((decision) => decision.admitted && decision.by.kind === 'rule')) return new Map();
  const rules = await findLiveRules(db);
  return new Map(rules.map((rule) => [rule.id, describeRule(rule)]));
}

function admission(
  facts: Pick<AdmissionFacts, 'loginRuleId'>,
  decision: AdmissionDecision,
  admitsRule: Map<string, string>,
): Pick<Person, 'admittedBy' | 'refusedCode'> {
  if (!decision.admitted) return { admittedBy: null, refusedCode: decision.code };
  if (decision.by.kind === 'whitelist') return { admittedBy: { kind: 'whitelist' }, refusedCode: null };
  const { ruleId } = decision.by;
  // Removed between the two reads: named by id (the next listing no longer shows it admitting).
  const admits = admitsRule.get(ruleId) ?? `the rule ${ruleId}`;
  return {
    admittedBy: { kind: 'rule', ruleId, admits, throughCheck: ruleId !== facts.loginRuleId },
    refusedCode: null,
  };
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
