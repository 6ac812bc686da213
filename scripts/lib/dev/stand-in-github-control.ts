/**
 * The stand-in GitHub's control routes as a client, in Web APIs only, so Worker tests (inside
 * workerd) can change memberships while someone is signed in. Node tests may call the
 * StandInGitHub object's methods instead; both edit the same directory.
 */
export interface StandInMembership {
  org: string;
  team?: string;
  login: string;
  state?: 'active' | 'pending';
  role?: 'member' | 'admin' | 'billing_manager' | 'maintainer';
  public?: boolean;
}

export interface StandInOutage {
  status?: number;
  timeout?: boolean;
  forMs?: number;
  login?: string;
  org?: string;
}

export function standInControl(baseUrl: string) {
  const call = async (method: string, path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { message?: string };
    if (!response.ok) throw new Error(`stand-in ${method} ${path}: ${response.status} ${answer.message ?? ''}`);
    return answer;
  };
  return {
    setMembership: (membership: StandInMembership) => call('PUT', '/_stand-in/memberships', membership),
    removeMembership: async (membership: Pick<StandInMembership, 'org' | 'team' | 'login'>) =>
      ((await call('DELETE', '/_stand-in/memberships', membership)) as { removed: boolean }).removed,
    addUser: (login: string) => call('POST', '/_stand-in/users', { login }) as Promise<{ id: number; login: string }>,
    renameUser: (from: string, to: string) =>
      call('POST', '/_stand-in/users/rename', { from, to }) as Promise<{ id: number; login: string }>,
    startOutage: (outage: StandInOutage) => call('POST', '/_stand-in/outage', outage),
    /** Ends the outage with this scope; without one, every outage (other test files' too). */
    endOutage: (scope: Pick<StandInOutage, 'login' | 'org'> = {}) => call('DELETE', '/_stand-in/outage', scope),
  };
}
