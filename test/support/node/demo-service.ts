import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A downstream service as its author would write it, for the browser tests: a "Sign in" link to
 * the gateway carrying a fresh `state` (kept in a cookie of its own, as a service should), and a
 * callback that checks that state, then exchanges the login code for a session, server to server,
 * or shows the error the gateway sent back (RFC 6749 §4.1.2.1).
 */
export interface DemoService {
  url: string;
  redirectUri: string;
  close(): Promise<void>;
}

export async function startDemoService(options: {
  gatewayUrl: string;
  serviceId: string;
  key: () => string;
  /** What the service calls itself on its pages ("Demo" by default). */
  name?: string;
}): Promise<DemoService> {
  let port = 0;
  const name = options.name ?? 'Demo';
  // Several demo services share the host "localhost" (cookies ignore ports): one cookie each.
  const stateCookie = `demo_state_${options.serviceId}`;
  const redirectUri = () => `http://localhost:${port}/callback`;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const page = (status: number, body: string, headers: Record<string, string> = {}) =>
      response
        .writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers })
        .end(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${name}</title></head><body><main>${body}</main></body></html>`,
        );
    if (url.pathname === '/') {
      const state = randomBytes(12).toString('base64url');
      const login = `${options.gatewayUrl}/login?service=${options.serviceId}&redirect_uri=${encodeURIComponent(redirectUri())}&state=${state}`;
      return page(200, `<h1>${name} service</h1><p><a href="${escapeHtml(login)}">Sign in</a></p>`, {
        'Set-Cookie': `${stateCookie}=${state}; Path=/; HttpOnly; SameSite=Lax`,
      });
    }
    if (url.pathname === '/callback') {
      const sent = cookieValue(request.headers.cookie, stateCookie);
      const stateCheck = `<p id="state-check">${sent !== undefined && url.searchParams.get('state') === sent ? 'state matches' : 'state differs'}</p>`;
      const error = url.searchParams.get('error');
      if (error !== null) {
        const fields = [...url.searchParams]
          .map(
            ([field, value]) =>
              `<dt>${escapeHtml(field)}</dt><dd id="answer-${escapeHtml(field)}">${escapeHtml(value)}</dd>`,
          )
          .join('');
        return page(200, `<h1>Not signed in</h1><p id="error">${escapeHtml(error)}</p>${stateCheck}<dl>${fields}</dl>`);
      }
      void fetch(`${options.gatewayUrl}/v1/sessions/exchange`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${options.key()}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: url.searchParams.get('code'), redirect_uri: redirectUri() }),
      })
        .then(async (answer) => {
          const body = (await answer.json()) as {
            user?: { login: string };
            session?: { token: string };
            error?: { code: string };
          };
          if (!answer.ok || !body.user || !body.session)
            return page(502, `<h1>Sign-in failed</h1><p>${escapeHtml(body.error?.code ?? '')}</p>`);
          return page(
            200,
            `<h1>Welcome</h1><p id="who">Signed in as ${escapeHtml(body.user.login)}</p><p id="session">${body.session.token.slice(0, 4)}</p>${stateCheck}`,
          );
        })
        .catch(() => page(502, '<h1>Gateway unreachable</h1>'));
      return;
    }
    page(404, 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    redirectUri: redirectUri(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
