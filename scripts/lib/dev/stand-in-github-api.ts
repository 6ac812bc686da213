import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StandInDirectory, StandInUser } from './stand-in-github-directory.ts';

/**
 * The stand-in's REST API for people and memberships, answered as GitHub's REST API answers
 * (docs.github.com/rest: orgs/members, teams/members, users):
 * - GET /user/memberships/orgs/{org}: the caller's own membership, active or pending; 404 when
 *   not affiliated;
 * - GET /orgs/{org}/teams/{team_slug}/memberships/{username}: { url, role, state }; 404 when not
 *   in the team, or when the caller is no active member of the org (the team is not visible);
 * - GET /orgs/{org}/members/{username}: 204 member, 404 not, 302 to public_members when the
 *   caller is no member; GET /orgs/{org}/public_members/{username}: 204 or 404;
 * - GET /users/{username}: the public record, 404 for a login nobody carries; an organization's
 *   login answers the organization with type "Organization", as on GitHub;
 * - GET /orgs/{org}: the organization (GitHub's organization-full shape, its login in its own
 *   case), 404 for no such organization.
 * /users and /orgs are public lookups: served without a token, as GitHub serves them (the gateway
 * resolves admission rules through them with none); a token, when sent, must still be one the
 * stand-in issued ("Bad credentials" otherwise). Every other route needs such a token (GitHub also
 * serves public_members without one; the stand-in is stricter so a gateway that forgets its token
 * is caught). The org and team routes also need the app's organization "Members" read
 * permission, else 403 "Resource not accessible by integration", as GitHub answers a GitHub App's
 * user token.
 */

export interface Caller {
  user: StandInUser;
  /** The app's organization "Members" permission (a GitHub App's user token carries its app's). */
  membersRead: boolean;
}

const DOCS = 'https://docs.github.com/rest';

/** What the REST API answers: a status, GitHub's JSON body if any, and headers. */
export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type ApiRoute =
  | { kind: 'own-membership'; org: string }
  | { kind: 'team-membership'; org: string; team: string; username: string }
  | { kind: 'org-member'; org: string; username: string }
  | { kind: 'public-member'; org: string; username: string }
  | PublicRoute;

/** The routes GitHub answers without a token. */
export type PublicRoute = { kind: 'user'; username: string } | { kind: 'org'; org: string };

export function isPublicRoute(route: ApiRoute): route is PublicRoute {
  return route.kind === 'user' || route.kind === 'org';
}

/** The REST API route a path names, or null when it is none of these. */
export function apiRouteOf(method: string, pathname: string): ApiRoute | null {
  if (method !== 'GET') return null;
  const parts = pathname.split('/').slice(1).map(decodePart);
  if (parts.some((part) => part === null || part === '')) return null;
  const [a, b, c, d, e, f] = parts as string[];
  if (parts.length === 4 && a === 'user' && b === 'memberships' && c === 'orgs' && d) {
    return { kind: 'own-membership', org: d };
  }
  if (parts.length === 6 && a === 'orgs' && b && c === 'teams' && d && e === 'memberships' && f) {
    return { kind: 'team-membership', org: b, team: d, username: f };
  }
  if (parts.length === 4 && a === 'orgs' && b && c === 'members' && d)
    return { kind: 'org-member', org: b, username: d };
  if (parts.length === 4 && a === 'orgs' && b && c === 'public_members' && d) {
    return { kind: 'public-member', org: b, username: d };
  }
  if (parts.length === 2 && a === 'users' && b) return { kind: 'user', username: b };
  if (parts.length === 2 && a === 'orgs' && b) return { kind: 'org', org: b };
  return null;
}

/** A public lookup's answer: the same whoever asks, with a token or without. */
export function answerPublicRoute(route: PublicRoute, directory: StandInDirectory, baseUrl: string): ApiAnswer {
  if (route.kind === 'user') {
    const user = directory.findUser(route.username);
    if (user) return { status: 200, body: publicUser(user, baseUrl) };
    // Logins and organization names share one namespace on GitHub: /users/{org} is the org.
    const org = directory.orgOf(route.username);
    if (org) return { status: 200, body: orgAsUser(org, baseUrl) };
    return NOT_FOUND;
  }
  const org = directory.orgOf(route.org);
  return org ? { status: 200, body: fullOrg(org, baseUrl) } : NOT_FOUND;
}

export function answerApiRoute(
  route: Exclude<ApiRoute, PublicRoute>,
  caller: Caller,
  directory: StandInDirectory,
  baseUrl: string,
): ApiAnswer {
  if (!caller.membersRead) {
    // GitHub names the permission it wanted in this header.
    return {
      status: 403,
      body: { message: 'Resource not accessible by integration', documentation_url: DOCS, status: '403' },
      headers: { 'X-Accepted-GitHub-Permissions': 'members=read' },
    };
  }
  const org = directory.orgOf(route.org);
  const callerMembership = org ? directory.orgMembership(org.login, caller.user.id) : undefined;
  // A billing manager is affiliated (their own membership says so) but is no member: GitHub
  // shows them no teams and does not list them among the members.
  const callerIsMember = callerMembership?.state === 'active' && callerMembership.role !== 'billing_manager';
  switch (route.kind) {
    case 'own-membership': {
      if (!org || !callerMembership) return NOT_FOUND;
      return {
        status: 200,
        body: {
          url: `${baseUrl}/orgs/${org.login}/memberships/${caller.user.login}`,
          state: callerMembership.state,
          role: callerMembership.role,
          organization_url: `${baseUrl}/orgs/${org.login}`,
          organization: { login: org.login, id: org.id, url: `${baseUrl}/orgs/${org.login}` },
          user: simpleUser(caller.user, baseUrl),
        },
      };
    }
    case 'team-membership': {
      const team = org ? directory.team(org.login, route.team) : undefined;
      const user = directory.findUser(route.username);
      if (!org || !team || !callerIsMember || !user) return NOT_FOUND;
      const membership = directory.teamMembership(org.login, team.slug, user.id);
      if (!membership) return NOT_FOUND;
      return {
        status: 200,
        body: {
          url: `${baseUrl}/teams/${team.id}/memberships/${user.login}`,
          role: membership.role,
          state: membership.state,
        },
      };
    }
    case 'org-member': {
      if (!callerIsMember || !org) {
        // A non-member is sent to the public list, as GitHub does.
        const location = `${baseUrl}/orgs/${encodeURIComponent(route.org)}/public_members/${encodeURIComponent(route.username)}`;
        return { status: 302, headers: { Location: location } };
      }
      const user = directory.findUser(route.username);
      const membership = user ? directory.orgMembership(org.login, user.id) : undefined;
      if (membership?.state !== 'active' || membership.role === 'billing_manager') {
        return {
          status: 404,
          body: { message: 'User does not exist or is not a member of the organization', documentation_url: DOCS },
        };
      }
      return { status: 204 };
    }
    case 'public-member': {
      const user = directory.findUser(route.username);
      const membership = org && user ? directory.orgMembership(org.login, user.id) : undefined;
      if (membership?.state !== 'active' || membership.role === 'billing_manager' || !membership.public)
        return NOT_FOUND;
      return { status: 204 };
    }
  }
}

/** Who an API request concerns, for outages scoped to a person or an org. */
export function subjectsOf(route: ApiRoute): { org?: string; pathLogin?: string } {
  switch (route.kind) {
    case 'own-membership':
      return { org: route.org };
    case 'user':
      return { pathLogin: route.username };
    case 'org':
      return { org: route.org };
    default:
      return { org: route.org, pathLogin: route.username };
  }
}

/** GitHub's 401: no token ("Requires authentication") or one it did not issue ("Bad credentials"). */
export function sendUnauthorized(response: ServerResponse, hadToken: boolean): void {
  sendJson(response, 401, {
    message: hadToken ? 'Bad credentials' : 'Requires authentication',
    documentation_url: DOCS,
    status: '401',
  });
}

/** GitHub's 5xx body for an outage. */
export function sendOutage(response: ServerResponse, status: number): void {
  sendJson(response, status, { message: 'Server Error (stand-in outage)', documentation_url: DOCS });
}

/** The token in `Authorization: Bearer ...` or GitHub's older `token ...`, or null. */
export function bearerToken(request: IncomingMessage): string | null {
  const match = (request.headers.authorization ?? '').match(/^(?:Bearer|token)\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

function simpleUser(user: StandInUser, baseUrl: string) {
  return { login: user.login, id: user.id, type: 'User', site_admin: false, url: `${baseUrl}/users/${user.login}` };
}

function publicUser(user: StandInUser, baseUrl: string) {
  return { ...simpleUser(user, baseUrl), name: `${user.login} (stand-in)`, avatar_url: null };
}

interface OrgRecord {
  login: string;
  id: number;
}

function orgAsUser(org: OrgRecord, baseUrl: string) {
  return {
    login: org.login,
    id: org.id,
    node_id: nodeId('O', org.id),
    type: 'Organization',
    site_admin: false,
    url: `${baseUrl}/users/${org.login}`,
    name: `${org.login} (stand-in)`,
    avatar_url: null,
  };
}

/** GitHub's organization-full shape, with what the stand-in does not model left empty. */
function fullOrg(org: OrgRecord, baseUrl: string) {
  const url = `${baseUrl}/orgs/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: nodeId('O', org.id),
    url,
    members_url: `${url}/members{/member}`,
    public_members_url: `${url}/public_members{/member}`,
    avatar_url: null,
    description: null,
    name: `${org.login} (stand-in)`,
    html_url: `${baseUrl}/${org.login}`,
    type: 'Organization',
    is_verified: false,
    public_repos: 0,
    followers: 0,
    following: 0,
  };
}

/** A GitHub-like global node id (the real ones are opaque too). */
function nodeId(prefix: string, id: number): string {
  return Buffer.from(`${prefix}_${id}`).toString('base64url');
}

const NOT_FOUND: ApiAnswer = { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };

/** Sends an answer: JSON when it has a body, else only its status and headers. */
export function sendApiAnswer(response: ServerResponse, answer: ApiAnswer): void {
  if (answer.body === undefined) {
    response.writeHead(answer.status, answer.headers ?? {}).end();
    return;
  }
  sendJson(response, answer.status, answer.body, answer.headers);
}

function decodePart(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body));
}
