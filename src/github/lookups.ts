import { type GitHubEndpoints, GitHubError } from './client.ts';
import { field, getFromGitHub, segment } from './rest.ts';

/** An organization or a person as GitHub names them: its id, and its login as GitHub spells it. */
export interface GitHubAccount {
  id: string;
  login: string;
  type: 'User' | 'Organization' | 'Other';
}

/**
 * The organization `GET /orgs/{org}` names, or null when GitHub has none by that login. Asked
 * without a token: GitHub serves public records to anyone (60 requests an hour per address).
 */
export function lookupOrganization(endpoints: GitHubEndpoints, login: string): Promise<GitHubAccount | null> {
  return lookup(endpoints, `/orgs/${segment(login)}`, 'organization');
}

/** The account `GET /users/{username}` names (a person, or an organization), or null. */
export function lookupUser(endpoints: GitHubEndpoints, login: string): Promise<GitHubAccount | null> {
  return lookup(endpoints, `/users/${segment(login)}`, 'user');
}

async function lookup(endpoints: GitHubEndpoints, path: string, what: string): Promise<GitHubAccount | null> {
  const answer = await getFromGitHub(endpoints, path, null);
  if (answer.kind === 'unreachable') {
    throw new GitHubError('github_unreachable', `GitHub could not be reached to look up the ${what}. Try again.`);
  }
  if (answer.status === 404) return null;
  if (answer.status === 403 || answer.status === 429) {
    throw new GitHubError(
      'github_error',
      `GitHub refused the ${what} lookup (HTTP ${answer.status}, likely its rate limit). Try again in an hour.`,
    );
  }
  const id = field(answer.body, 'id');
  const login = field(answer.body, 'login');
  if (answer.status !== 200 || typeof id !== 'number' || typeof login !== 'string') {
    throw new GitHubError('github_error', `GitHub answered the ${what} lookup with HTTP ${answer.status} and no id.`);
  }
  const type = field(answer.body, 'type');
  return { id: String(id), login, type: type === 'User' || type === 'Organization' ? type : 'Other' };
}
