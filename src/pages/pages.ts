import { html } from 'hono/html';
import { layout, type Page } from './layout.ts';

export function landingPage(person: { login: string | null } | null): Page {
  if (!person) {
    return layout(
      'Sign in',
      html`<h1>Sign in</h1>
<p>This gateway signs you in with your GitHub account.</p>
<p><a class="button" href="/login">Sign in with GitHub</a></p>`,
    );
  }
  return layout(
    'Signed in',
    html`<h1>Signed in</h1>
<p>You are signed in as <strong>${person.login ?? 'your GitHub account'}</strong>.</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  );
}

/** `retryPath` is the /login address the sign-in started from, so "Try again" returns to the same service. */
export function accessPendingPage(login: string, retryPath: string): Page {
  return layout(
    'Access pending',
    html`<h1>Access pending</h1>
<p>You signed in as <strong>${login}</strong>, but this account is not on the list of people allowed in yet.</p>
<p>Ask an operator to add you; they will need your GitHub login: <strong>${login}</strong>. Then sign in again.</p>
<p><a class="button" href="${retryPath}">Try again</a></p>`,
  );
}

export function signedOutPage(): Page {
  return layout(
    'Signed out',
    html`<h1>Signed out</h1>
<p>You are signed out of the gateway.</p>
<p><a class="button" href="/login">Sign in again</a></p>`,
  );
}

export function errorPage(title: string, message: string, code: string): Page {
  return layout(
    title,
    html`<h1>${title}</h1>
<p>${message}</p>
<p class="code">Error code: ${code}</p>
<p><a class="button" href="/">Back to the start</a></p>`,
  );
}
