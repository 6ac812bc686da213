import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for GitHub's OAuth endpoints and `/user`, on loopback, for tests and `npm run dev`
 * (GitHub itself cannot be reached here). It behaves like GitHub where the gateway can tell:
 * client credentials and redirect URI checked, PKCE S256 checked, codes single use and short
 * lived, expiring user tokens with single-use refresh tokens, and errors answered the way GitHub
 * answers them: 200 with an `error` field.
 */
export interface StandInGitHubOptions {
  port?: number;
  clientId: string;
  clientSecret: string;
  /** GitHub App user tokens expire (8 h) and come with refresh tokens; OAuth App tokens do not. */
  expiringTokens?: boolean;
  accessTokenLifetimeSeconds?: number;
}

export interface StandInGitHub {
  url: string;
  port: number;
  /** Per-login counters, for tests that must count what GitHub was asked. */
  stats(login: string): LoginStats;
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

interface PendingCode {
  clientId: string;
  redirectUri: string | null;
  challenge: string | null;
  login: string;
  expiresAt: number;
  used: boolean;
}

export async function startStandInGitHub(options: StandInGitHubOptions): Promise<StandInGitHub> {
  const expiring = options.expiringTokens ?? true;
  const lifetime = options.accessTokenLifetimeSeconds ?? 8 * 3600;
  const codes = new Map<string, PendingCode>();
  const accessTokens = new Map<string, { login: string; expiresAt: number | null }>();
  const refreshTokens = new Map<string, { login: string; used: boolean }>();
  const counters = new Map<string, LoginStats>();
  const count = (login: string) => {
    let stats = counters.get(login);
    if (!stats) {
      stats = { codeExchanges: 0, refreshes: 0, profileReads: 0 };
      counters.set(login, stats);
    }
    return stats;
  };

  const issueTokens = (login: string) => {
    const accessToken = `ghu_${randomBytes(27).toString('base64url')}`;
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer', scope: '' };
    if (expiring) {
      const refreshToken = `ghr_${randomBytes(56).toString('base64url')}`;
      refreshTokens.set(refreshToken, { login, used: false });
      Object.assign(body, {
        expires_in: lifetime,
        refresh_token: refreshToken,
        refresh_token_expires_in: REFRESH_LIFETIME_SECONDS,
      });
    }
    accessTokens.set(accessToken, { login, expiresAt: expiring ? Date.now() + lifetime * 1000 : null });
    return body;
  };

  const tokenEndpoint = async (request: IncomingMessage, response: ServerResponse) => {
    const form = new URLSearchParams(await readBody(request));
    const answer = (body: Record<string, unknown>) => sendToken(request, response, body);
    const [basicId, basicSecret] = basicCredentials(request.headers.authorization);
    const clientId = basicId ?? form.get('client_id');
    const clientSecret = basicSecret ?? form.get('client_secret');
    if (clientId !== options.clientId || clientSecret !== options.clientSecret) {
      return answer(
        githubError('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.'),
      );
    }
    if (form.get('grant_type') === 'refresh_token') {
      const refresh = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!refresh || refresh.used) {
        return answer(githubError('bad_refresh_token', 'The refresh token passed is incorrect or expired.'));
      }
      refresh.used = true;
      count(refresh.login).refreshes += 1;
      return answer(issueTokens(refresh.login));
    }
    const code = form.get('code') ?? '';
    const pending = codes.get(code);
    if (!pending || pending.used || pending.expiresAt < Date.now() || pending.clientId !== clientId) {
      return answer(githubError('bad_verification_code', 'The code passed is incorrect or expired.'));
    }
    pending.used = true; // single use, even when what follows fails
    const redirectUri = form.get('redirect_uri');
    if (redirectUri !== null && pending.redirectUri !== null && redirectUri !== pending.redirectUri) {
      return answer(
        githubError(
          'redirect_uri_mismatch',
          'The redirect_uri MUST match the registered callback URL for this application.',
        ),
      );
    }
    if (pending.challenge !== null) {
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
        return answer(githubError('bad_verification_code', 'The code_verifier does not match the code_challenge.'));
      }
    }
    count(pending.login).codeExchanges += 1;
    return answer(issueTokens(pending.login));
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const route = `${request.method} ${url.pathname.replace(/^\/api\/v3/, '')}`;
    Promise.resolve()
      .then(async () => {
        switch (route) {
          case 'GET /login/oauth/authorize':
            return authorizePage(url, options, response);
          case 'POST /login/oauth/authorize': {
            const form = new URLSearchParams(await readBody(request));
            const login = (form.get('login') ?? '').trim();
            const redirectUri = form.get('redirect_uri');
            if (!/^[A-Za-z0-9-]{1,39}$/.test(login) || !redirectUri) return sendText(response, 400, 'Pick a user.');
            const code = randomBytes(10).toString('hex');
            codes.set(code, {
              clientId: form.get('client_id') ?? '',
              redirectUri,
              challenge: form.get('code_challenge_method') === 'S256' ? form.get('code_challenge') : null,
              login,
              expiresAt: Date.now() + CODE_LIFETIME_MS,
              used: false,
            });
            const target = new URL(redirectUri);
            target.searchParams.set('code', code);
            target.searchParams.set('state', form.get('state') ?? '');
            response.writeHead(302, { Location: target.toString() }).end();
            return;
          }
          case 'POST /login/oauth/access_token':
            return tokenEndpoint(request, response);
          case 'GET /_stand-in/stats':
            // Test control, not GitHub: what this login asked for so far.
            return sendJson(response, 200, count(url.searchParams.get('login') ?? ''));
          case 'GET /user': {
            const token = (request.headers.authorization ?? '').replace(/^(Bearer|token)\s+/i, '');
            const found = accessTokens.get(token);
            if (!found || (found.expiresAt !== null && found.expiresAt < Date.now())) {
              return sendJson(response, 401, {
                message: 'Bad credentials',
                documentation_url: 'https://docs.github.com/rest',
              });
            }
            count(found.login).profileReads += 1;
            return sendJson(response, 200, profileOf(found.login));
          }
          default:
            return sendJson(response, 404, { message: 'Not Found' });
        }
      })
      .catch(() => {
        if (!response.headersSent) sendText(response, 500, 'stand-in error');
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: (login) => ({ ...count(login) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The same id for the same login every time, like a real account. */
export function profileOf(login: string) {
  const id = Number.parseInt(createHash('sha256').update(login.toLowerCase()).digest('hex').slice(0, 8), 16);
  return { id, login, name: `${login} (stand-in)`, avatar_url: null, type: 'User' };
}

function authorizePage(url: URL, options: StandInGitHubOptions, response: ServerResponse): void {
  const params = url.searchParams;
  if (params.get('client_id') !== options.clientId) {
    sendText(response, 404, 'Unknown client_id.');
    return;
  }
  const hidden = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method']
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? '')}">`)
    .join('');
  const buttons = STAND_IN_USERS.map(
    (login) => `<button type="submit" name="login" value="${login}">Sign in as ${login}</button>`,
  ).join('\n');
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stand-in GitHub: authorize</title></head>
<body><main><h1>Stand-in GitHub</h1><p>This is the local stand-in for GitHub. Pick who you are:</p>
<form method="post" action="/login/oauth/authorize">${hidden}
${buttons}
<p><label>Or another login <input name="login" pattern="[A-Za-z0-9-]{1,39}"></label> <button type="submit">Sign in</button></p>
</form></main></body></html>`;
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
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

function basicCredentials(header: string | undefined): [string | null, string | null] {
  const match = header?.match(/^Basic\s+(.+)$/i);
  if (!match?.[1]) return [null, null];
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? [null, null] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
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

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
