import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GITHUB_LOGIN_PATTERN } from '../../../src/validation/github-identity.ts';
import { isLoopbackHost } from '../../../src/validation/loopback.ts';
import {
  answerApiRoute,
  answerPublicRoute,
  apiRouteOf,
  bearerToken,
  isPublicRoute,
  sendApiAnswer,
  sendOutage,
  sendUnauthorized,
  subjectsOf,
} from './stand-in-github-api.ts';
import {
  type MembershipChange,
  type MembershipsFile,
  type Outage,
  StandInDirectory,
  StandInInputError,
  type StandInUser,
} from './stand-in-github-directory.ts';
import { applyMembershipsForm, authorizePage, membershipsPage } from './stand-in-github-page.ts';

/**
 * A stand-in for GitHub's OAuth endpoints and `/user`, on loopback, for tests and `npm run dev`
 * (GitHub itself cannot be reached here). It behaves like GitHub where the gateway can tell:
 * client credentials checked (HTTP Basic decoded as RFC 6749 §2.3.1 says, as a strict server
 * does), only registered callback URLs accepted, the token request's redirect_uri compared with
 * the authorize request's, PKCE S256 checked, codes single use and short lived, expiring user
 * tokens with single-use refresh tokens, and errors answered the way GitHub answers them: 200
 * with an `error` field. Other apps (tests) may answer the standard way instead.
 *
 * It also serves GitHub's REST API for people and org and team memberships
 * (stand-in-github-api.ts), with memberships set from its page (/_stand-in/memberships), a JSON
 * file given at start, its control routes (/_stand-in/...) and the Node API below; README.md,
 * "The stand-in GitHub", lists them.
 */
export interface StandInGitHubOptions {
  port?: number;
  clientId: string;
  clientSecret: string;
  /** The app's registered callback URLs: authorize refuses any other redirect_uri, as GitHub does. */
  callbackUrls: string[];
  /** More registered apps, each with its own credentials and behaviour (tests). */
  otherApps?: StandInApp[];
  /** GitHub App user tokens expire (8 h) and come with refresh tokens; OAuth App tokens do not. */
  expiringTokens?: boolean;
  accessTokenLifetimeSeconds?: number;
  /** The main app's organization "Members" read permission (default true). */
  membersRead?: boolean;
  /** People and memberships at start, from a JSON file (GITHUB_STAND_IN_MEMBERSHIPS in `npm run dev`). */
  membershipsFile?: string;
  /** The same, given inline (tests). */
  memberships?: MembershipsFile;
}

export interface StandInApp {
  clientId: string;
  clientSecret: string;
  callbackUrls: string[];
  /**
   * `github` (default): every token error is 200 with an `error` field, in GitHub's own codes.
   * `standard`: RFC 6749 §5.2, as a strict OAuth server answers: 400 `invalid_grant`, 401
   * `invalid_client` with a WWW-Authenticate challenge.
   */
  errors?: 'github' | 'standard';
  /** false: a refresh answers no new refresh token and the old one stays valid (RFC 6749 §6). */
  rotateRefreshTokens?: boolean;
  /**
   * The app's organization "Members" read permission (default true). Without it, as for a GitHub
   * App that lacks it, the org and team membership routes answer 403.
   */
  membersRead?: boolean;
}

export interface StandInGitHub {
  url: string;
  port: number;
  /** Per-login counters, for tests that must count what GitHub was asked. */
  stats(login: string): LoginStats;
  /** Adds a person to an org or team, or changes their state (`pending`) or role. */
  setMembership(change: MembershipChange): void;
  /** Takes a person out of an org (and its teams) or a team; false if they were not in it. */
  removeMembership(change: Pick<MembershipChange, 'org' | 'team' | 'login'>): boolean;
  /** A person who exists before any sign-in (GET /users/{username} finds them). */
  addUser(login: string): StandInUser;
  /** Renames a person: the same id, a new login; the old login then finds nobody. */
  renameUser(from: string, to: string): StandInUser;
  /** The REST API (not the OAuth pages) answers 5xx, or nothing, for a while. */
  startOutage(outage: Outage): void;
  /** Ends the outage with this scope (`{ login }`, `{ org }`); without one, every outage. */
  endOutage(scope?: Pick<Outage, 'login' | 'org'>): void;
  /** Requests received so far, by `METHOD /path` (the benchmark counts GitHub calls with it). */
  requestCounts(): Record<string, number>;
  /** The REST API answers this many milliseconds late (0: at once), as a slow GitHub would. */
  delayApiAnswers(ms: number): void;
  close(): Promise<void>;
}

export interface LoginStats {
  codeExchanges: number;
  refreshes: number;
  profileReads: number;
}

/** People the picker offers; any other login typed in the form works too. */
export const STAND_IN_USERS = ['octocat', 'monalisa', 'hubot'];
const CODE_LIFETIME_MS = 10 * 60 * 1000;
const REFRESH_LIFETIME_SECONDS = 15_897_600; // GitHub's six months

/** Where a loopback callback may differ from the registered one: its port (GitHub, RFC 8252 §7.3). */
function isRegisteredCallback(app: StandInApp, redirectUri: string): boolean {
  if (app.callbackUrls.includes(redirectUri)) return true;
  return app.callbackUrls.some((registered) => {
    const url = parsedUrl(registered);
    const candidate = parsedUrl(redirectUri);
    if (!url || !candidate || url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) return false;
    candidate.port = url.port;
    return candidate.href === url.href;
  });
}

function parsedUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

interface PendingCode {
  clientId: string;
  /** Where the code went back to; `requested` is the redirect_uri the authorize request named, if any. */
  redirectUri: string;
  requested: string | null;
  challenge: string | null;
  userId: number;
  expiresAt: number;
  used: boolean;
}

export async function startStandInGitHub(options: StandInGitHubOptions): Promise<StandInGitHub> {
  const apps: StandInApp[] = [
    {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      callbackUrls: options.callbackUrls,
      membersRead: options.membersRead,
    },
    ...(options.otherApps ?? []),
  ];
  const appOf = (clientId: string | null) => apps.find((app) => app.clientId === clientId);
  const expiring = options.expiringTokens ?? true;
  const lifetime = options.accessTokenLifetimeSeconds ?? 8 * 3600;
  const directory = new StandInDirectory();
  for (const login of STAND_IN_USERS) directory.ensureUser(login);
  if (options.membershipsFile) directory.loadFile(options.membershipsFile);
  if (options.memberships) directory.load(options.memberships, 'memberships');
  const codes = new Map<string, PendingCode>();
  // Tokens name the person by id, so a rename keeps them working, as on GitHub.
  const accessTokens = new Map<string, { userId: number; clientId: string; expiresAt: number | null }>();
  const refreshTokens = new Map<string, { userId: number; clientId: string; used: boolean }>();
  const counters = new Map<number, LoginStats>();
  const count = (userId: number) => {
    let stats = counters.get(userId);
    if (!stats) {
      stats = { codeExchanges: 0, refreshes: 0, profileReads: 0 };
      counters.set(userId, stats);
    }
    return stats;
  };
  const statsOf = (login: string): LoginStats => {
    const user = directory.findUser(login);
    return user ? { ...count(user.id) } : { codeExchanges: 0, refreshes: 0, profileReads: 0 };
  };
  /** The person and app behind a request's token, if the stand-in issued it and it is still valid. */
  const callerOf = (request: IncomingMessage) => {
    const found = accessTokens.get(bearerToken(request) ?? '');
    if (!found || (found.expiresAt !== null && found.expiresAt < Date.now())) return null;
    const user = directory.userById(found.userId);
    if (!user) return null;
    return { user, membersRead: appOf(found.clientId)?.membersRead ?? true };
  };

  const issueTokens = (userId: number, clientId: string, withRefreshToken = true) => {
    const accessToken = `ghu_${randomBytes(27).toString('base64url')}`;
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer', scope: '' };
    if (expiring && !withRefreshToken) body.expires_in = lifetime;
    if (expiring && withRefreshToken) {
      const refreshToken = `ghr_${randomBytes(56).toString('base64url')}`;
      refreshTokens.set(refreshToken, { userId, clientId, used: false });
      Object.assign(body, {
        expires_in: lifetime,
        refresh_token: refreshToken,
        refresh_token_expires_in: REFRESH_LIFETIME_SECONDS,
      });
    }
    accessTokens.set(accessToken, { userId, clientId, expiresAt: expiring ? Date.now() + lifetime * 1000 : null });
    return body;
  };

  const tokenEndpoint = async (request: IncomingMessage, response: ServerResponse) => {
    const form = new URLSearchParams(await readBody(request));
    const basic = basicCredentials(request.headers.authorization);
    const clientId = basic ? basic.id : form.get('client_id');
    const clientSecret = basic ? basic.secret : form.get('client_secret');
    const app = appOf(clientId);
    const style = app?.errors ?? 'github';
    const answer = (body: Record<string, unknown>) => sendToken(request, response, body);
    const refuse = (refusal: TokenRefusal) => {
      if (style === 'github') return answer(githubError(refusal.github, refusal.description));
      // A client that tried HTTP Basic is told so with a 401 and a challenge (RFC 6749 §5.2).
      const triedBasic = /^Basic\s/i.test(request.headers.authorization ?? '');
      const status = refusal.standard === 'invalid_client' && triedBasic ? 401 : 400;
      const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Basic realm="stand-in"' } : {};
      return sendJson(response, status, { error: refusal.standard, error_description: refusal.description }, headers);
    };
    if (!app || clientSecret !== app.clientSecret) {
      return refuse({
        github: 'incorrect_client_credentials',
        standard: 'invalid_client',
        description: 'The client_id and/or client_secret passed are incorrect.',
      });
    }
    if (form.get('grant_type') === 'refresh_token') {
      const refresh = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!refresh || refresh.used || refresh.clientId !== app.clientId) {
        return refuse({
          github: 'bad_refresh_token',
          standard: 'invalid_grant',
          description: 'The refresh token passed is incorrect or expired.',
        });
      }
      const rotate = app.rotateRefreshTokens ?? true;
      if (rotate) refresh.used = true;
      count(refresh.userId).refreshes += 1;
      return answer(issueTokens(refresh.userId, app.clientId, rotate));
    }
    const code = form.get('code') ?? '';
    const pending = codes.get(code);
    if (!pending || pending.used || pending.expiresAt < Date.now() || pending.clientId !== app.clientId) {
      return refuse({
        github: 'bad_verification_code',
        standard: 'invalid_grant',
        description: 'The code passed is incorrect or expired.',
      });
    }
    pending.used = true; // single use, even when what follows fails
    // The redirect_uri the authorize request named, exactly (RFC 6749 §4.1.3: required when the
    // authorize request carried one, which the gateway's always does).
    const sent = form.get('redirect_uri');
    const mismatch =
      pending.requested === null ? sent !== null && sent !== pending.redirectUri : sent !== pending.requested;
    if (mismatch) {
      return refuse({
        github: 'redirect_uri_mismatch',
        standard: 'invalid_grant',
        description: 'The redirect_uri MUST match the registered callback URL for this application.',
      });
    }
    if (pending.challenge !== null) {
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
        return refuse({
          github: 'bad_verification_code',
          standard: 'invalid_grant',
          description: 'The code_verifier does not match the code_challenge.',
        });
      }
    }
    count(pending.userId).codeExchanges += 1;
    return answer(issueTokens(pending.userId, app.clientId));
  };

  /** GitHub sends the person nowhere it does not know: the app, and one of its callback URLs. */
  const checkAuthorizeRequest = (
    params: URLSearchParams,
  ): { app: StandInApp; redirectUri: string; requested: string | null } | { refusal: string } => {
    const app = appOf(params.get('client_id'));
    if (!app) return { refusal: 'Unknown client_id.' };
    // Without a redirect_uri GitHub uses the app's (first) callback URL.
    const requested = params.get('redirect_uri') || null;
    const redirectUri = requested ?? app.callbackUrls[0];
    if (!redirectUri || !isRegisteredCallback(app, redirectUri)) {
      return { refusal: 'The redirect_uri is not associated with this application.' };
    }
    return { app, redirectUri, requested };
  };

  /**
   * GitHub's REST API for people and memberships: a token first (none needed for the public
   * lookups, but one sent must be valid), then any outage, then the answer.
   */
  const apiEndpoint = (request: IncomingMessage, response: ServerResponse, pathname: string): boolean => {
    const route = apiRouteOf(request.method ?? '', pathname);
    if (!route) return false;
    const sentToken = bearerToken(request) !== null;
    const caller = callerOf(request);
    if (!caller && (sentToken || !isPublicRoute(route))) {
      sendUnauthorized(response, sentToken);
      return true;
    }
    const outage = directory.outageFor({ login: caller?.user.login, ...subjectsOf(route) });
    if (outage?.timeout) {
      directory.hold(outage, () => request.socket.destroy());
      return true;
    }
    if (outage) {
      sendOutage(response, outage.status ?? 503);
      return true;
    }
    if (isPublicRoute(route)) sendApiAnswer(response, answerPublicRoute(route, directory, baseUrl));
    else if (caller) sendApiAnswer(response, answerApiRoute(route, caller, directory, baseUrl));
    return true;
  };

  /** Test and page control, not GitHub: JSON bodies (a cross-site page cannot send those unasked). */
  const controlEndpoint = async (request: IncomingMessage, response: ServerResponse, route: string) => {
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(response, 415, { message: 'Send JSON (Content-Type: application/json).' });
    }
    const body = JSON.parse((await readBody(request)) || '{}');
    switch (route) {
      case 'PUT /_stand-in/memberships':
        directory.setMembership(body);
        return sendJson(response, 200, { ok: true });
      case 'DELETE /_stand-in/memberships':
        return sendJson(response, 200, { removed: directory.removeMembership(body) });
      case 'POST /_stand-in/users':
        return sendJson(response, 200, directory.ensureUser(body.login));
      case 'POST /_stand-in/users/rename':
        return sendJson(response, 200, directory.renameUser(body.from, body.to));
      case 'POST /_stand-in/outage':
        directory.startOutage(body);
        return sendJson(response, 200, { ok: true });
      case 'DELETE /_stand-in/outage':
        // `{}` ends every outage; `{ login }` or `{ org }` the one with that scope.
        directory.endOutage(body.login === undefined && body.org === undefined ? undefined : body);
        return sendJson(response, 200, { ok: true });
      default:
        return sendJson(response, 404, { message: 'Not Found' });
    }
  };

  let baseUrl = '';
  const requestCounts = new Map<string, number>();
  let apiDelayMs = 0;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const pathname = url.pathname.replace(/^\/api\/v3/, '');
    const route = `${request.method} ${pathname}`;
    requestCounts.set(route, (requestCounts.get(route) ?? 0) + 1);
    Promise.resolve()
      .then(async () => {
        if (apiDelayMs > 0 && apiRouteOf(request.method ?? '', pathname)) {
          await new Promise((resolve) => setTimeout(resolve, apiDelayMs));
        }
        if (apiEndpoint(request, response, pathname)) return;
        switch (route) {
          case 'GET /_stand-in/memberships':
            return membershipsPage(directory, response);
          case 'POST /_stand-in/memberships': {
            if ((request.headers['content-type'] ?? '').startsWith('application/json')) {
              return controlEndpoint(request, response, 'PUT /_stand-in/memberships');
            }
            // The page's own form: another site's page may not post it (its Origin differs).
            const origin = request.headers.origin;
            if (origin !== undefined && origin !== baseUrl && origin !== `http://localhost:${port}`) {
              return sendText(response, 403, 'The memberships form posts only from the stand-in page.');
            }
            const notice = applyMembershipsForm(directory, new URLSearchParams(await readBody(request)));
            return membershipsPage(directory, response, notice);
          }
          case 'PUT /_stand-in/memberships':
          case 'DELETE /_stand-in/memberships':
          case 'POST /_stand-in/users':
          case 'POST /_stand-in/users/rename':
          case 'POST /_stand-in/outage':
          case 'DELETE /_stand-in/outage':
            return controlEndpoint(request, response, route);
          case 'GET /login/oauth/authorize': {
            const checked = checkAuthorizeRequest(url.searchParams);
            if ('refusal' in checked) return sendErrorPage(response, checked.refusal);
            return authorizePage(directory, STAND_IN_USERS, url.searchParams, response);
          }
          case 'POST /login/oauth/authorize': {
            // The form is the person's browser talking: it is checked like the first request.
            const form = new URLSearchParams(await readBody(request));
            const checked = checkAuthorizeRequest(form);
            if ('refusal' in checked) return sendErrorPage(response, checked.refusal);
            if (form.has('cancel')) return redirectCancelled(response, checked.redirectUri, form.get('state'));
            const login = (form.get('login') ?? '').trim();
            if (!GITHUB_LOGIN_PATTERN.test(login)) return sendText(response, 400, 'Pick a user.');
            const code = randomBytes(10).toString('hex');
            codes.set(code, {
              clientId: checked.app.clientId,
              redirectUri: checked.redirectUri,
              requested: checked.requested,
              challenge: form.get('code_challenge_method') === 'S256' ? form.get('code_challenge') : null,
              // Signing in with a login nobody has yet is signing up.
              userId: directory.ensureUser(login).id,
              expiresAt: Date.now() + CODE_LIFETIME_MS,
              used: false,
            });
            const target = new URL(checked.redirectUri);
            target.searchParams.set('code', code);
            target.searchParams.set('state', form.get('state') ?? '');
            response.writeHead(302, { Location: target.toString() }).end();
            return;
          }
          case 'POST /login/oauth/access_token':
            return tokenEndpoint(request, response);
          case 'GET /_stand-in/stats':
            // Test control, not GitHub: what this login asked for so far.
            return sendJson(response, 200, statsOf(url.searchParams.get('login') ?? ''));
          case 'GET /user': {
            const caller = callerOf(request);
            if (!caller) return sendUnauthorized(response, bearerToken(request) !== null);
            const outage = directory.outageFor({ login: caller.user.login });
            if (outage?.timeout) return directory.hold(outage, () => request.socket.destroy());
            if (outage) return sendOutage(response, outage.status ?? 503);
            count(caller.user.id).profileReads += 1;
            return sendJson(response, 200, profileOf(caller.user));
          }
          default:
            return sendJson(response, 404, { message: 'Not Found' });
        }
      })
      .catch((error: unknown) => {
        if (response.headersSent) return;
        // A control request the stand-in cannot carry out says why; anything else is its own bug.
        if (error instanceof StandInInputError || error instanceof SyntaxError) {
          return sendJson(response, 400, { message: error.message });
        }
        sendText(response, 500, 'stand-in error');
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: baseUrl,
    port,
    stats: statsOf,
    setMembership: (change) => directory.setMembership(change),
    removeMembership: (change) => directory.removeMembership(change),
    addUser: (login) => ({ ...directory.ensureUser(login) }),
    renameUser: (from, to) => ({ ...directory.renameUser(from, to) }),
    startOutage: (outage) => directory.startOutage(outage),
    endOutage: (scope) => directory.endOutage(scope),
    requestCounts: () => Object.fromEntries(requestCounts),
    delayApiAnswers: (ms) => {
      apiDelayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What GET /user answers: the person's id (the same for the same login, until renamed) and login. */
export function profileOf(user: StandInUser) {
  return { id: user.id, login: user.login, name: `${user.login} (stand-in)`, avatar_url: null, type: 'User' };
}

/**
 * The person pressed Cancel: back to the callback as GitHub sends it ("Troubleshooting
 * authorization request errors", Access denied), these four parameters in this order.
 */
function redirectCancelled(response: ServerResponse, redirectUri: string, state: string | null): void {
  const target = new URL(redirectUri);
  target.searchParams.set('error', 'access_denied');
  target.searchParams.set('error_description', 'The user has denied your application access.');
  target.searchParams.set(
    'error_uri',
    '/apps/building-integrations/setting-up-and-registering-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
  );
  if (state !== null) target.searchParams.set('state', state);
  response.writeHead(302, { Location: target.toString() }).end();
}

function sendErrorPage(response: ServerResponse, message: string): void {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Stand-in GitHub: error</title></head>
<body><main><h1>Stand-in GitHub</h1><p>${escapeHtml(message)}</p></main></body></html>`;
  response.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
}

interface TokenRefusal {
  /** GitHub's code, answered with HTTP 200. */
  github: string;
  /** The RFC 6749 §5.2 code, answered with 400 or 401. */
  standard: 'invalid_client' | 'invalid_grant';
  description: string;
}

function githubError(error: string, description: string) {
  return { error, error_description: description, error_uri: `https://docs.github.com/apps/oauth#${error}` };
}

/** GitHub answers JSON when asked, form-encoded otherwise; errors, too, with status 200. */
function sendToken(request: IncomingMessage, response: ServerResponse, body: Record<string, unknown>): void {
  if ((request.headers.accept ?? '').includes('application/json')) {
    sendJson(response, 200, body);
    return;
  }
  const form = new URLSearchParams(Object.entries(body).map(([key, value]) => [key, String(value)]));
  response.writeHead(200, { 'Content-Type': 'application/x-www-form-urlencoded' }).end(form.toString());
}

/**
 * HTTP Basic client credentials as RFC 6749 §2.3.1 defines them: id and secret are each
 * form-urlencoded before they are joined with ':' and base64-encoded, so both are decoded here.
 * A value that is not validly encoded counts as no credentials at all.
 */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = header?.match(/^Basic\s+(.+)$/i);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  const id = formUrlDecode(decoded.slice(0, colon));
  const secret = formUrlDecode(decoded.slice(colon + 1));
  return id === null || secret === null ? null : { id, secret };
}

function formUrlDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
      if (body.length > 64 * 1024) request.destroy();
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response
    .writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
