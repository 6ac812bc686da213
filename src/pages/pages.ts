import { html } from 'hono/html';
import { layout, type Page } from './layout.ts';

export interface LandingPerson {
  login: string | null;
  /** Every service that can still act for them (a live session, or standing access): one line each. */
  services: { serviceId: string; serviceName: string; lastSignedInAt: Date; accessEndsAt: Date }[];
}

export function landingPage(person: LandingPerson | null): Page {
  if (!person) {
    return layout(
      'Sign in',
      html`<h1>Sign in</h1>
<p>This gateway signs you in with your GitHub account.</p>
<p><a class="button" href="/login">Sign in with GitHub</a></p>`,
    );
  }
  const services =
    person.services.length === 0
      ? html`<p>You are not signed in to any service through this gateway.</p>`
      : html`<ul class="sessions">
${person.services.map(
  (
    service,
  ) => html`<li><strong>${service.serviceName}</strong>, last signed in ${when(service.lastSignedInAt)}, access until ${when(service.accessEndsAt)}
<form method="post" action="/logout"><input type="hidden" name="service" value="${service.serviceId}"><button type="submit">Sign out of ${service.serviceName}</button></form></li>
`,
)}</ul>`;
  return layout(
    'Signed in',
    html`<h1>Signed in</h1>
<p>You are signed in as <strong>${person.login ?? 'your GitHub account'}</strong>.</p>
<h2>Services you are signed in to</h2>
<p>A service keeps its access until the time shown, also after its session there has ended, unless you sign out of it.</p>
${services}
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
<form method="post" action="/logout"><input type="hidden" name="everywhere" value="1"><button type="submit">Sign out everywhere</button></form>`,
  );
}

/** A moment, to the minute, in UTC: pages carry no script to show local time. */
function when(moment: Date): string {
  return `${moment.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export interface PendingPageInput {
  /** The GitHub login the person signed in as. */
  login: string;
  /** The /login address the sign-in started from, so "Try again" returns to the same service. */
  retryPath: string;
  /**
   * The service the person was on their way to, and the address that takes them back to it
   * (its registered return address, with the refusal and the service's state); null for a
   * sign-in to the gateway itself.
   */
  service: { name: string; backUrl: string } | null;
}

export function accessPendingPage(input: PendingPageInput): Page {
  const { login, retryPath, service } = input;
  const back = service ? html` <a href="${service.backUrl}">Back to ${service.name}</a>` : '';
  return layout(
    'Access pending',
    html`<h1>Access pending</h1>
<p>You signed in as <strong>${login}</strong>, but this account is not on the list of people allowed in yet.</p>
<p>Ask an operator to add you; they will need your GitHub login: <strong>${login}</strong>. Then sign in again.</p>
<p><a class="button" href="${retryPath}">Try again</a>${back}</p>`,
  );
}

export function signedOutPage(servicesSignedOut = 0): Page {
  const everywhere =
    servicesSignedOut > 0 ? html` and of ${servicesSignedOut} ${servicesSignedOut === 1 ? 'service' : 'services'}` : '';
  return layout(
    'Signed out',
    html`<h1>Signed out</h1>
<p>You are signed out of the gateway${everywhere}.</p>
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
