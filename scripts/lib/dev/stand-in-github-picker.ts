/**
 * What a person does on the stand-in GitHub's authorize page: pick a login and submit the form.
 * Web APIs only, so Worker tests (inside workerd) and the benchmark (Node) share it. Returns
 * GitHub's answer, a redirect to the gateway's callback.
 */
export function pickStandInUser(authorizeUrl: URL, login: string): Promise<Response> {
  const form = new URLSearchParams({ login });
  for (const name of ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method']) {
    form.set(name, authorizeUrl.searchParams.get(name) ?? '');
  }
  return fetch(`${authorizeUrl.origin}/login/oauth/authorize`, { method: 'POST', body: form, redirect: 'manual' });
}
