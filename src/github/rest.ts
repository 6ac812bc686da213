import { GITHUB_TIMEOUT_MS, type GitHubEndpoints } from './client.ts';

/** What a REST call to GitHub came back with: its status and JSON body, or no answer at all. */
export type RestAnswer = { kind: 'answered'; status: number; body: unknown } | { kind: 'unreachable' };

/**
 * One GET to GitHub's REST API, with the person's token or none (GitHub serves public records to
 * anyone). Never throws: a timeout, a refused connection or a body cut short is `unreachable`,
 * so each caller decides what no answer means for it.
 */
export async function getFromGitHub(
  endpoints: GitHubEndpoints,
  path: string,
  accessToken: string | null,
): Promise<RestAnswer> {
  const headers: Record<string, string> = {
    Accept: 'application/vnd.github+json',
    'User-Agent': 'edge-github-gateway',
    'X-GitHub-Api-Version': '2022-11-28',
  };
  if (accessToken !== null) headers.Authorization = `Bearer ${accessToken}`;
  try {
    const response = await fetch(`${endpoints.apiUrl}${path}`, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(GITHUB_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return { kind: 'answered', status: response.status, body };
  } catch {
    return { kind: 'unreachable' };
  }
}

/** A path segment for GitHub's API: logins and slugs are validated before, this only encodes. */
export const segment = (value: string): string => encodeURIComponent(value);

/** A field of a JSON object answer, or undefined. */
export function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}
