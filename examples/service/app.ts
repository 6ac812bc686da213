import { Hono } from 'hono';
import { gatewayEvents } from '../../client/src/hono.ts';
import {
  createGatewayClient,
  type GatewayClient,
  GatewayClientError,
  type SignedIn,
  type SignInFailure,
  sessionOf,
} from '../../client/src/index.ts';
import { EventRecord, type ReceivedEvent, sessionIdOf } from './event-record.ts';

/** What the example needs to know: docs/api.md, "An example service". */
export interface ExampleConfig {
  /** The gateway's address (GATEWAY_URL). */
  gatewayUrl: string;
  /** The service's id, as the operator registered it (SERVICE_ID). */
  serviceId: string;
  /** The service's key, `gwk_…` (SERVICE_KEY): it never leaves this server. */
  serviceKey: string;
  /** The address people reach this service at (PUBLIC_URL, default http://localhost:PORT). */
  publicUrl: string;
  /** What the pages call the service (SERVICE_NAME, default the service id). */
  name?: string;
  /** The events signing secret, `whsec_…` (GATEWAY_EVENTS_SECRET): with it, events are taken at EVENTS_PATH. */
  eventsSecret?: string;
}

/** The callback's path: `${publicUrl}/auth/done` is the redirect URI to register. */
export const CALLBACK_PATH = '/auth/done';
/** Where the gateway POSTs events: `${publicUrl}/gateway/events` is the events URL to register. */
export const EVENTS_PATH = '/gateway/events';

/**
 * A small service signing people in through the gateway with the client library: a home page
 * that verifies the session on each request, `/login`, the callback at `/auth/done`, and a
 * `POST /logout` that revokes the session. With an events secret, it takes the gateway's events at
 * `POST /gateway/events`, refuses the sessions they end without asking verify, and lists them at `/events`.
 */
export function createExampleApp(config: ExampleConfig): Hono {
  const client = createGatewayClient({
    gatewayUrl: config.gatewayUrl,
    serviceId: config.serviceId,
    key: config.serviceKey,
  });
  const publicUrl = new URL(config.publicUrl);
  const redirectUri = new URL(CALLBACK_PATH, publicUrl).href;
  const name = config.name ?? config.serviceId;
  // Named after the service: several services on one host (localhost: cookies ignore ports)
  // must not overwrite each other's. Over https they keep the __Host- prefix.
  const prefix = publicUrl.protocol === 'https:' ? '__Host-' : '';
  const cookies = {
    sessionCookie: `${prefix}${config.serviceId}_session`,
    signInCookie: `${prefix}${config.serviceId}_sign_in`,
  };
  const record = new EventRecord();
  const eventsLink = config.eventsSecret ? '<p><a href="/events">Events from the gateway</a></p>' : '';
  const page = (body: string) => htmlPage(name, body + eventsLink);
  const signedOut = (note?: string) =>
    `<h1>${escapeHtml(name)} service</h1><p>You are not signed in.${note ? ` ${escapeHtml(note)}` : ''}</p><p><a href="/login">Sign in</a></p>`;

  const app = new Hono();

  if (config.eventsSecret) {
    // Verified (signature, time, replay) before onEvent; a 204 tells the gateway it arrived.
    app.post(
      EVENTS_PATH,
      gatewayEvents({ secret: config.eventsSecret, onEvent: (event, { id }) => record.take(id, event) }),
    );
    app.get('/events', (c) => c.html(htmlPage(name, eventsPage(name, record.events())), 200, NO_STORE));
  }

  app.get('/', async (c) => {
    const session = sessionOf(c.req.raw, cookies);
    if (session === null) return c.html(page(signedOut()), 200, NO_STORE);
    const sessionId = sessionIdOf(session);
    const endedBecause = sessionId === null ? null : record.endedBecause(sessionId);
    if (endedBecause !== null) {
      // The gateway said so (a verified event): no need to ask verify.
      c.header('Set-Cookie', cookie(cookies.sessionCookie, '', publicUrl, 0));
      return c.html(page(signedOut(`Your session ended (${endedBecause}, the gateway told us).`)), 200, NO_STORE);
    }
    const verdict = await verifyOrError(client, session);
    if (verdict instanceof GatewayClientError) {
      return c.html(
        page(
          `<h1>Could not check your session</h1><p>The gateway answered <span id="error">${escapeHtml(verdict.code)}</span>; reload to try again.</p>`,
        ),
        502,
        NO_STORE,
      );
    }
    if (!verdict.valid || verdict.user === null) {
      // Revoked, expired, no longer let in…: the cookie is worth nothing now.
      c.header('Set-Cookie', cookie(cookies.sessionCookie, '', publicUrl, 0));
      return c.html(page(signedOut(`Your session ended (${verdict.code}).`)), 200, NO_STORE);
    }
    if (sessionId !== null) record.sawSession(verdict.user.id, sessionId);
    const who = verdict.user.login ?? `GitHub user ${verdict.user.github_id}`;
    return c.html(
      page(
        `<h1>${escapeHtml(name)} service</h1><p id="who">Signed in as ${escapeHtml(who)}</p>` +
          `<p>Your session <code id="session">${escapeHtml(session.slice(0, 4))}</code>… is kept in an HttpOnly cookie and verified with the gateway on each visit.</p>` +
          '<form method="post" action="/logout"><button type="submit">Sign out</button></form>',
      ),
      200,
      NO_STORE,
    );
  });

  app.get('/login', async (c) => {
    const link = await client.signInLink({ redirectUri });
    // Both are base64url: a dot keeps them apart. Ten minutes, as long as the gateway's own sign-in.
    c.header(
      'Set-Cookie',
      cookie(cookies.signInCookie, `${link.state}.${link.codeVerifier}`, publicUrl, SIGN_IN_SECONDS),
    );
    c.header('Cache-Control', 'no-store');
    return c.redirect(link.url, 302);
  });

  app.get(CALLBACK_PATH, async (c) => {
    const [state = '', codeVerifier = ''] = (cookieOf(c.req.raw, cookies.signInCookie) ?? '').split('.');
    let outcome: SignedIn | SignInFailure | GatewayClientError;
    try {
      outcome = await client.handleCallback(c.req.url, { state, codeVerifier, redirectUri });
    } catch (error) {
      if (!(error instanceof GatewayClientError)) throw error;
      outcome = error; // the exchange refused the code (or the gateway did not answer)
    }
    if (outcome instanceof GatewayClientError || !outcome.ok) {
      // A refusal keeps the sign-in cookie: the gateway's sign-in may still go on (a person on the
      // pending page who is let in continues from the same link, back here with a code).
      if (outcome instanceof GatewayClientError || outcome.reason !== 'refused') {
        c.header('Set-Cookie', cookie(cookies.signInCookie, '', publicUrl, 0));
      }
      return c.html(page(notSignedIn(outcome)), 401, NO_STORE);
    }
    // A redirect, never a page here: reloading a page at this address would send the used code
    // again, and a second exchange of a code revokes the session it issued.
    c.header('Set-Cookie', cookie(cookies.signInCookie, '', publicUrl, 0), { append: true });
    const sessionId = sessionIdOf(outcome.session.token);
    if (sessionId !== null) record.sawSession(outcome.user.id, sessionId);
    const seconds = Math.max(0, Math.floor((Date.parse(outcome.session.expires_at) - Date.now()) / 1000));
    c.header('Set-Cookie', cookie(cookies.sessionCookie, outcome.session.token, publicUrl, seconds), { append: true });
    c.header('Cache-Control', 'no-store');
    return c.redirect('/', 303);
  });

  app.post('/logout', async (c) => {
    const session = sessionOf(c.req.raw, cookies);
    if (session !== null) {
      try {
        await client.revoke(session);
      } catch (error) {
        if (!(error instanceof GatewayClientError)) throw error;
        // The session is still live at the gateway: keep the cookie so that signing out can be tried again.
        return c.html(
          page(
            `<h1>Not signed out</h1><p>The gateway answered <span id="error">${escapeHtml(error.code)}</span>: your session is still open; try again.</p><form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
          ),
          502,
        );
      }
    }
    c.header('Set-Cookie', cookie(cookies.sessionCookie, '', publicUrl, 0));
    return c.redirect('/', 303);
  });

  return app;
}

/** The gateway's own sign-in lasts ten minutes: the state and verifier are worth no more. */
const SIGN_IN_SECONDS = 600;
const NO_STORE = { 'Cache-Control': 'no-store' };

async function verifyOrError(client: GatewayClient, session: string) {
  try {
    return await client.verify({ session });
  } catch (error) {
    if (error instanceof GatewayClientError) return error;
    throw error;
  }
}

/**
 * A callback that did not end with a session. The client checks the state before anything
 * else, so a refusal ("refused") is one of this browser's sign-ins: its state matched.
 */
function notSignedIn(failure: SignInFailure | GatewayClientError): string {
  const again = '<p><a href="/login">Sign in</a></p>';
  if (failure instanceof GatewayClientError) {
    return `<h1>Not signed in</h1><p>The gateway refused the login code: <span id="error">${escapeHtml(failure.code)}</span>.</p>${again}`;
  }
  if (failure.reason !== 'refused') {
    return `<h1>Not signed in</h1><p id="error">${failure.reason}</p><p id="state-check">${failure.reason === 'state_mismatch' ? 'state differs' : 'state matches'}</p><p>This is not the sign-in this browser started.</p>${again}`;
  }
  const fields: [string, string | null][] = [
    ['error', failure.error],
    ['error_description', failure.errorDescription],
    ['gateway_error', failure.gatewayError],
  ];
  const list = fields
    .filter((field): field is [string, string] => field[1] !== null)
    .map(([field, value]) => `<dt>${field}</dt><dd id="answer-${field}">${escapeHtml(value)}</dd>`)
    .join('');
  return `<h1>Not signed in</h1><p id="error">${escapeHtml(failure.error)}</p><p id="state-check">state matches</p><dl>${list}</dl>${again}`;
}

/** HttpOnly, SameSite=Lax (the gateway's redirect back is a top-level GET), Secure over https; Max-Age 0 ends it. */
function cookie(name: string, value: string, publicUrl: URL, maxAgeSeconds: number): string {
  const secure = publicUrl.protocol === 'https:' ? '; Secure' : '';
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

function cookieOf(request: Request, name: string): string | null {
  for (const pair of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return null;
}

/** The recent events, newest first: what happened, to whom, and which sessions (their ids' first 8 characters). */
function eventsPage(name: string, events: readonly ReceivedEvent[]): string {
  const rows = events
    .map(({ id, receivedAt, event }) => {
      const sessions =
        event.type === 'session.ended' ? event.data.session_ids.map((one) => one.slice(0, 8)).join(' ') : 'all';
      const who = event.data.user.login ?? `GitHub user ${event.data.user.github_id}`;
      return (
        `<tr data-type="${escapeHtml(event.type)}" data-reason="${escapeHtml(event.data.reason)}">` +
        `<td>${escapeHtml(receivedAt.toISOString())}</td><td>${escapeHtml(event.type)}</td><td>${escapeHtml(event.data.reason)}</td>` +
        `<td>${escapeHtml(who)}</td><td>${escapeHtml(sessions)}</td><td><code>${escapeHtml(id)}</code></td></tr>`
      );
    })
    .join('');
  const table = events.length
    ? `<table id="events"><thead><tr><th>received</th><th>event</th><th>reason</th><th>person</th><th>sessions</th><th>webhook-id</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p id="no-events">No events yet.</p>';
  return `<h1>${escapeHtml(name)} service: events from the gateway</h1><p>Each one verified (its signature, its time, not seen before) before it is listed.</p>${table}<p><a href="/">Home</a></p>`;
}

function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
