import { findUserIdsByLogin } from '../db/audit-logs.ts';
import type { Database } from '../db/client.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { escapeControl } from '../validation/control-characters.ts';

/** How many user ids an ambiguous-login message lists. */
const MAX_LISTED = 10;

/** No one carrying this login has signed in here: a filter by it would answer "0 entries". */
export class UnknownLoginError extends GatewayError<'unknown_login'> {
  constructor(login: string) {
    super(
      'unknown_login',
      'not_found',
      `No one with the GitHub login ${escapeControl(login)} has signed in here, so no audit entry names them. ` +
        'A person who signed in under an earlier login is found by their user id (a UUID).',
    );
  }
}

/** Several people carry the login (renamed and reused on GitHub): the operator must say which. */
export class AmbiguousAuditLoginError extends GatewayError<'ambiguous_login'> {
  readonly userIds: string[];

  constructor(login: string, userIds: string[]) {
    const listed = userIds.slice(0, MAX_LISTED);
    const people = userIds.length > MAX_LISTED ? `more than ${MAX_LISTED}` : String(userIds.length);
    super(
      'ambiguous_login',
      'conflict',
      `The login ${escapeControl(login)} belongs to ${people} people here (user ids ${listed.join(', ')}${userIds.length > MAX_LISTED ? ', and more' : ''}): ` +
        'GitHub logins can be renamed and reused. Query by one of those user ids instead.',
    );
    this.userIds = listed;
  }
}

/** The user id of the one person carrying this GitHub login (case-insensitive). */
export async function userIdForLogin(db: Database, login: string): Promise<string> {
  const ids = await findUserIdsByLogin(db, login, MAX_LISTED + 1);
  const [only] = ids;
  if (only === undefined) throw new UnknownLoginError(login);
  if (ids.length > 1) throw new AmbiguousAuditLoginError(login, ids);
  return only;
}
