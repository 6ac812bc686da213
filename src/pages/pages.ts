import { html } from 'hono/html';
import type { AdmissionRefusal } from '../admission/decide.ts';
import type { Branding } from './branding.ts';
import { layout, type Page } from './layout.ts';

/** One service that can still act for the person: a line of the signed-in landing. */
export interface LandingService {
  serviceId: string;
  serviceName: string;
  /** Where its name links: the service's own site (src/pages/service-home.ts), or null for none. */
  homeUrl: string | null;
  lastSignedInAt: Date;
  accessEndsAt: Date;
}

/** Who the landing is for: nobody signed in, a signed-in person, or one whose cookie no longer admits them. */
export type LandingState =
  | { kind: 'anonymous' }
  | {
      kind: 'signed_in';
      login: string | null;
      /** Every service that can still act for them (a live session, or standing access): one line each. */
      services: LandingService[];
      /** The service just signed out of (`/?signed_out_of=<id>`), once it is no longer listed. */
      signedOutOf: string | null;
    }
  | { kind: 'refused'; login: string; code: AdmissionRefusal };

export function landingPage(branding: Branding, state: LandingState): Page {
  if (state.kind === 'anonymous') {
    return layout(
      branding,
      'Sign in',
      html`<h1>Sign in</h1>
<p>This gateway signs you in with your GitHub account.</p>
<p><a class="button" href="/login">Sign in with GitHub</a></p>`,
    );
  }
  if (state.kind === 'refused') return refusedLanding(branding, state.login, state.code);
  const services =
    state.services.length === 0
      ? html`<p>You are not signed in to any service through this gateway.</p>`
      : html`<ul class="sessions">
${state.services.map(
  (
    service,
  ) => html`<li>${serviceName(service)}, last signed in ${when(service.lastSignedInAt)}, access until ${when(service.accessEndsAt)}
<form method="post" action="/logout"><input type="hidden" name="service" value="${service.serviceId}"><button type="submit">Sign out of ${service.serviceName}</button></form></li>
`,
)}</ul>`;
  const notice = state.signedOutOf
    ? html`<p class="notice" role="status">Signed out of ${state.signedOutOf}.</p>
`
    : '';
  return layout(
    branding,
    'Signed in',
    html`${notice}<h1>Signed in</h1>
<p>You are signed in as <strong>${state.login ?? 'your GitHub account'}</strong>.</p>
<h2>Services you are signed in to</h2>
<p>A service keeps its access until the time shown, also after its session there has ended, unless you sign out of it.</p>
${services}
<h2>Signing out</h2>
<form method="post" action="/logout"><button type="submit">Sign out of this gateway</button></form>
<p class="hint">Ends this page’s sign-in only; the services above keep their access.</p>
<form method="post" action="/logout"><input type="hidden" name="everywhere" value="1"><button type="submit">Sign out of every service</button></form>
<p class="hint">Ends this page’s sign-in and every service’s access to your account.</p>`,
  );
}

function serviceName(service: LandingService) {
  return service.homeUrl
    ? html`<a href="${service.homeUrl}">${service.serviceName}</a>`
    : html`<strong>${service.serviceName}</strong>`;
}

/** Why a person whose gateway cookie names a session is no longer let in: one sentence per refusal. */
const REFUSAL_SENTENCES: Record<AdmissionRefusal, (login: string) => Page> = {
  not_whitelisted: (login) =>
    html`Your GitHub account <strong>${login}</strong> is no longer on the list of people allowed in.`,
  not_a_member: (login) =>
    html`GitHub says <strong>${login}</strong> is no longer a member of an organization or team that admits people here.`,
  membership_unverified: (login) =>
    html`GitHub has not confirmed lately that <strong>${login}</strong> is a member of an organization or team that admits people here. Signing in again asks it.`,
};

function refusedLanding(branding: Branding, login: string, code: AdmissionRefusal): Page {
  return layout(
    branding,
    'Signed out',
    html`<h1>You are signed out</h1>
<p>${REFUSAL_SENTENCES[code](login)}</p>
${contactLine(branding)}<p class="code">Reason code: ${code}</p>
<p><a class="button" href="/login">Sign in with GitHub</a></p>`,
  );
}

function contactLine(branding: Branding) {
  return branding.contact
    ? html`<p class="contact">${branding.contact}</p>
`
    : '';
}

/**
 * A moment as a <time>: to the minute in UTC, as the text and the title; the local-time script
 * (src/pages/assets.ts) rewrites the text to the person's own time zone, keeping UTC in the title.
 */
function when(moment: Date) {
  const utc = `${moment.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${moment.toISOString()}" title="${utc}">${utc}</time>`;
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

export function accessPendingPage(branding: Branding, input: PendingPageInput): Page {
  const { login, retryPath, service } = input;
  const goingTo = service
    ? html`<p>You were on your way to <strong>${service.name}</strong>.</p>
`
    : '';
  const back = service ? html` <a href="${service.backUrl}">Back to ${service.name}</a>` : '';
  return layout(
    branding,
    'Access pending',
    html`<h1>Access pending</h1>
${goingTo}<p>You signed in as <strong>${login}</strong>, but this account is not on the list of people allowed in yet.</p>
<p>Ask an operator to add you; they will need your GitHub login: <strong>${login}</strong>. Then sign in again.</p>
${contactLine(branding)}<p><a class="button" href="${retryPath}">Try again</a>${back}</p>`,
  );
}

export function signedOutPage(branding: Branding, servicesSignedOut = 0): Page {
  const everywhere =
    servicesSignedOut > 0 ? html` and of ${servicesSignedOut} ${servicesSignedOut === 1 ? 'service' : 'services'}` : '';
  return layout(
    branding,
    'Signed out',
    html`<h1>Signed out</h1>
<p>You are signed out of the gateway${everywhere}.</p>
<p><a class="button" href="/login">Sign in again</a></p>`,
  );
}

export function errorPage(branding: Branding, title: string, message: string, code: string): Page {
  return layout(
    branding,
    title,
    html`<h1>${title}</h1>
<p>${message}</p>
<p class="code">Error code: ${code}</p>
<p><a class="button" href="/">Back to the start</a></p>`,
  );
}

/**
 * `GET /logout` from a browser (a link, a typed address): signing out is a POST, so the page
 * offers the form instead of doing it, and a way back.
 */
export function signOutIsAFormPage(branding: Branding): Page {
  return layout(
    branding,
    'Sign out with the button',
    html`<h1>Sign out with the button</h1>
<p>Signing out is done with a button, so that a link cannot sign you out without you asking.</p>
<form method="post" action="/logout"><button type="submit">Sign out of this gateway</button></form>
<p class="code">Error code: method_not_allowed</p>
<p><a href="/">Back to the start</a></p>`,
  );
}
